"""batch.py: the partial batch response, driven by fake writers and sinks (no AWS)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from runtime_helpers import aggregate, assert_well_formed, config, event, json_bytes, kinesis_record

from runtime.batch import process_batch
from runtime.retry import Deadline
from runtime.types import Outcome, WriteReport


class ScriptedWriter:
    """Gives each valid record the next scripted outcome."""

    def __init__(self, outcomes):
        self.outcomes = list(outcomes)
        self.seen = []

    def write(self, records, deadline):
        self.seen = records
        report = WriteReport()
        for position, _ in enumerate(records):
            outcome = self.outcomes[position % len(self.outcomes)]
            report.outcomes[position] = outcome
            if outcome is Outcome.INVALID:
                report.rejected[position] = "ValidationException"
        return report


class ScriptedSink:
    def __init__(self, failing=frozenset()):
        self.failing, self.sent = failing, []

    def send(self, failures, deadline):
        self.sent.append(list(failures))
        return {i for i, f in enumerate(failures) if f.source.batch_index in self.failing}


shape = st.sampled_from(["valid", "pill", "aggregate", "aggregate_with_pill"])


def build(shapes):
    records = []
    for i, kind in enumerate(shapes):
        good = json_bytes({"device_id": f"d{i}"})
        if kind == "valid":
            data = good
        elif kind == "pill":
            data = b"not json"
        elif kind == "aggregate":
            data = aggregate([("a", good), ("b", good)])
        else:
            data = aggregate([("a", good), ("b", b"not json")])
        records.append(kinesis_record(1000 + i, data))
    return records


@given(
    st.lists(shape, min_size=1, max_size=15),
    st.lists(st.sampled_from(list(Outcome)), min_size=1, max_size=10),
    st.sets(st.integers(0, 14), max_size=3),
)
def test_batch_reports_first_unsettled_record_and_every_later_one(shapes, outcomes, sink_failing):
    records = build(shapes)
    writer, sink = ScriptedWriter(outcomes), ScriptedSink(sink_failing)
    result = process_batch(event(records), config(), writer, sink, Deadline.after(1))
    reported = assert_well_formed(result.response(), records)

    transient = [
        r.source.batch_index
        for p, r in enumerate(writer.seen)
        if writer.outcomes[p % len(writer.outcomes)] is Outcome.TRANSIENT
    ]
    first_transient = min(transient, default=len(records))
    sent = sink.sent[0] if sink.sent else []
    unsent = [f.source.batch_index for f in sent if f.source.batch_index in sink_failing]
    first = min([first_transient, *unsent])
    assert reported == [r["kinesis"]["sequenceNumber"] for r in records[first:]]
    # every failure sent lies before the first transient failure, in batch order
    assert all(f.source.batch_index < first_transient for f in sent)
    assert [f.source.batch_index for f in sent] == sorted(f.source.batch_index for f in sent)


def test_batch_full_success_reports_nothing():
    records = build(["valid", "pill", "aggregate"])
    result = process_batch(
        event(records), config(), ScriptedWriter([Outcome.WRITTEN]), ScriptedSink(), Deadline.after(1)
    )
    assert result.response() == {"batchItemFailures": []}
    assert (result.received, result.written, result.invalid, result.failures_queued) == (4, 3, 1, 1)


def test_batch_aggregate_parent_is_reported_once():
    records = build(["valid", "aggregate", "valid"])
    writer = ScriptedWriter([Outcome.WRITTEN, Outcome.WRITTEN, Outcome.TRANSIENT, Outcome.WRITTEN])
    result = process_batch(event(records), config(), writer, ScriptedSink(), Deadline.after(1))
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": "1001"}, {"itemIdentifier": "1002"}]}


def test_batch_write_rejected_record_goes_to_the_failure_queue():
    records = build(["valid", "valid"])
    sink = ScriptedSink()
    result = process_batch(
        event(records), config(), ScriptedWriter([Outcome.INVALID, Outcome.WRITTEN]), sink, Deadline.after(1)
    )
    assert result.response() == {"batchItemFailures": []}
    assert [(f.reason, f.source.batch_index) for f in sink.sent[0]] == [("write_rejected", 0)]


def test_batch_empty_event_is_success():
    result = process_batch(
        {"Records": []}, config(), ScriptedWriter([Outcome.WRITTEN]), ScriptedSink(), Deadline.after(1)
    )
    assert result.response() == {"batchItemFailures": []}


def test_batch_counts_a_pill_after_the_first_transient_failure_only_when_it_is_settled():
    """A pill behind a transient failure is reported for redelivery, not queued: counting it as invalid now
    would count it twice, once per delivery."""
    records = build(["valid", "pill"])
    sink = ScriptedSink()
    result = process_batch(event(records), config(), ScriptedWriter([Outcome.TRANSIENT]), sink, Deadline.after(1))
    assert result.response() == {"batchItemFailures": [{"itemIdentifier": "1000"}, {"itemIdentifier": "1001"}]}
    assert (result.invalid, result.failures_queued, result.transient) == (0, 0, 2)
