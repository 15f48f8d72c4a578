package io.linkcorrelator.topology;

import io.linkcorrelator.serdes.AvroSerde;
import io.linkcorrelator.topology.CorrelatorMetrics.Outcome;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Capture: for each input record, the group key and a {@link Contribution} naming the original
 * message (topic, partition, offset, event time), the producer span context(s) from its headers,
 * and the value to aggregate. A record that cannot be grouped (no key, undecodable value, negative
 * timestamp, tombstone) is counted and raised as an {@link InvalidRecordException}, which Kafka
 * Streams' processing exception handler logs and sends to the dead-letter topic.
 */
final class CaptureProcessor implements Processor<byte[], byte[], String, Contribution> {

  private static final Logger LOG = LoggerFactory.getLogger(CaptureProcessor.class);

  private final CorrelatorConfig config;
  private final CorrelatorMetrics metrics;
  private final AvroSerde<GenericRecord> values;
  private final ValueFields.Path groupField;
  private final ValueFields.Path aggregateField;
  private final boolean repartitions;
  private ProcessorContext<String, Contribution> context;

  CaptureProcessor(CorrelatorConfig config, CorrelatorMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
    this.values = config.valueSchema() == null ? null : AvroSerde.generic(config.valueSchema());
    this.repartitions = config.groupBy().repartitions();
    this.groupField =
        config.groupBy().source() == GroupBy.Source.VALUE_FIELD
            ? ValueFields.path(config.valueSchema(), config.groupBy().name(), "correlator.group.by")
            : null;
    this.aggregateField =
        config.aggregateField() == null
            ? null
            : ValueFields.path(
                config.valueSchema(), config.aggregateField(), "correlator.aggregate.field");
  }

  @Override
  public void init(ProcessorContext<String, Contribution> context) {
    this.context = context;
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    RecordMetadata source = context.recordMetadata().orElseThrow();
    if (record.timestamp() < 0) {
      throw invalid(Outcome.INVALID_TIMESTAMP, "negative timestamp " + record.timestamp());
    }
    long latest = WindowSpec.plus(context.currentSystemTimeMs(), config.maxFutureMs());
    if (record.timestamp() > latest) {
      // One such record would move stream time ahead and close every open window early.
      throw invalid(
          Outcome.INVALID_TIMESTAMP,
          "timestamp "
              + record.timestamp()
              + " is more than correlator.max.future.ms ("
              + config.maxFutureMs()
              + ") ahead of the wall clock");
    }
    if (record.value() == null) {
      throw invalid(Outcome.TOMBSTONE, "null value (tombstone)");
    }
    GenericRecord value = null;
    if (values != null) {
      try {
        value = values.deserialize(source.topic(), record.value());
      } catch (SerializationException e) {
        throw invalid(Outcome.INVALID_VALUE, e.getMessage());
      }
    }
    String key = groupKey(record, value);
    if (key == null) {
      throw invalid(Outcome.INVALID_KEY, "no group key (" + describeGroupBy() + ")");
    }
    Object aggregate = aggregateField == null ? null : aggregateField.read(value);
    boolean hasValue = aggregate instanceof Number;
    List<TraceContext> contexts;
    try {
      contexts = config.extractor().extract(record.headers());
    } catch (RuntimeException e) {
      LOG.warn("{}: trace context extraction failed, counted as unlinked", where(source), e);
      contexts = List.of();
    }
    Contribution contribution =
        new Contribution(
            source.topic(),
            source.partition(),
            source.offset(),
            record.timestamp(),
            contexts,
            hasValue,
            hasValue ? ((Number) aggregate).doubleValue() : 0);
    // Headers stay with the record within the task (a late record's dead letter keeps them), but
    // are not copied into the repartition topic: the contribution already holds the contexts.
    context.forward(
        repartitions
            ? record.withKey(key).withValue(contribution).withHeaders(new RecordHeaders())
            : record.withKey(key).withValue(contribution));
  }

  private String groupKey(Record<byte[], byte[]> record, GenericRecord value) {
    return switch (config.groupBy().source()) {
      case RECORD_KEY -> GroupKeys.of(record.key());
      case HEADER -> {
        byte[] header = GroupKeys.lastHeader(record.headers(), config.groupBy().name());
        yield header == null || header.length == 0 ? null : GroupKeys.of(header);
      }
      case VALUE_FIELD -> GroupKeys.ofField(groupField.read(value));
    };
  }

  private String describeGroupBy() {
    GroupBy groupBy = config.groupBy();
    return switch (groupBy.source()) {
      case RECORD_KEY -> "null record key";
      case HEADER -> "header " + groupBy.name() + " missing or empty";
      case VALUE_FIELD -> "value field " + groupBy.name() + " is null";
    };
  }

  private InvalidRecordException invalid(Outcome outcome, String reason) {
    metrics.record(outcome);
    return new InvalidRecordException(
        outcome.name().toLowerCase(java.util.Locale.ROOT) + ": " + reason);
  }

  private static String where(RecordMetadata source) {
    return source.topic() + "-" + source.partition() + "@" + source.offset();
  }
}
