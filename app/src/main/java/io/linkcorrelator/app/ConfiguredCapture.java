package io.linkcorrelator.app;

import io.linkcorrelator.streams.GroupKeys;
import io.linkcorrelator.streams.InvalidRecordException;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongCounter;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The application's step before its linked aggregation: each input value decoded once in the
 * configured {@link ValueFormat}, the group key taken from the record key, a header or a value
 * field ({@link GroupBy}) as the new record key, and the value replaced by the record's {@link
 * FieldValue} (the numeric field, or none). Trace headers are not read here: the linked aggregation
 * reads them once and tells the window summary whether each record is linked. A value that cannot
 * be decoded, or a record without a group key, is counted in {@code correlator.records} and raised
 * as an {@link InvalidRecordException} with the reason, which the processing exception handler
 * dead-letters. Tombstones and records with a timestamp out of range go on with a null value, for
 * the aggregation's own capture to reject with its reason.
 */
final class ConfiguredCapture implements Processor<byte[], byte[], String, FieldValue> {

  private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("correlator.outcome");

  private final GroupBy groupBy;
  private final ValueFields.Reader values;
  private final long maxFutureMs;
  private final LongCounter records;
  private ProcessorContext<String, FieldValue> context;

  ConfiguredCapture(CorrelatorConfig config, OpenTelemetry openTelemetry) {
    this.groupBy = config.groupBy();
    this.values = ValueFields.reader(config);
    this.maxFutureMs = config.maxFutureMs();
    // The library's counter of the same name: the SDK records both into one metric.
    this.records =
        openTelemetry
            .getMeter(CorrelatorTopology.INSTRUMENTATION_NAME)
            .counterBuilder("correlator.records")
            .setDescription("Input records by what became of them")
            .setUnit("{record}")
            .build();
  }

  @Override
  public void init(ProcessorContext<String, FieldValue> context) {
    this.context = context;
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    long now = context.currentSystemTimeMs();
    long latest = now > Long.MAX_VALUE - maxFutureMs ? Long.MAX_VALUE : now + maxFutureMs;
    if (record.value() == null || record.timestamp() < 0 || record.timestamp() > latest) {
      // The aggregation's capture rejects it, naming the reason (tombstone, timestamp).
      context.forward(record.withKey("").withValue(null));
      return;
    }
    String topic = context.recordMetadata().map(m -> m.topic()).orElse("");
    ValueFields.Fields fields;
    try {
      fields = values.read(topic, record.value()); // the value's only decoding
    } catch (ValueFields.UnreadableValue e) {
      throw invalid(e.outcome(), e.getMessage());
    }
    String key = groupKey(record, fields);
    if (key == null) {
      throw invalid("invalid_key", "no group key (" + describeMissingKey() + ")");
    }
    context.forward( // one copy of the record and its headers, not one per with*
        new Record<>(key, FieldValue.of(fields.aggregate()), record.timestamp(), record.headers()));
  }

  private String groupKey(Record<byte[], byte[]> record, ValueFields.Fields fields) {
    return switch (groupBy.source()) {
      case RECORD_KEY -> GroupKeys.of(record.key());
      case HEADER -> {
        byte[] header = GroupKeySources.lastHeader(record.headers(), groupBy.name());
        yield header == null || header.length == 0 ? null : GroupKeys.of(header);
      }
      case VALUE_FIELD -> fields.groupKey();
    };
  }

  private String describeMissingKey() {
    return switch (groupBy.source()) {
      case RECORD_KEY -> "null record key";
      case HEADER -> "header " + groupBy.name() + " missing or empty";
      case VALUE_FIELD -> "value field " + groupBy.name() + " missing or null";
    };
  }

  private InvalidRecordException invalid(String outcome, String reason) {
    records.add(1, Attributes.of(OUTCOME, outcome));
    return new InvalidRecordException(outcome + ": " + reason);
  }
}
