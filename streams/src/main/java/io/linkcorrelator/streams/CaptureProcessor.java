package io.linkcorrelator.streams;

import io.linkcorrelator.streams.CorrelatorMetrics.Outcome;
import io.linkcorrelator.streams.propagation.TraceContext;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Capture: for each input record, the group key and a {@link Contribution} naming the original
 * message (topic, partition, offset, event time), the producer span context(s) from its headers,
 * and the value to aggregate, from the value decoded once in the configured {@link ValueFormat}. A
 * record that cannot be grouped (no key, undecodable value or field, negative timestamp, tombstone)
 * is counted and raised as an {@link InvalidRecordException}, which Kafka Streams' processing
 * exception handler logs and sends to the dead-letter topic.
 *
 * <p>When the topology repartitions, it also reports each source partition's event-time progress as
 * a {@link Progress} marker, multicast to every window task: after a batch of records (at most one
 * marker per partition every {@link #PROGRESS_EVERY}) and on a wall-clock punctuation, so that a
 * partition without records is known too.
 */
final class CaptureProcessor implements Processor<byte[], byte[], String, Captured> {

  private static final Logger LOG = LoggerFactory.getLogger(CaptureProcessor.class);

  /** At most one progress marker per source partition this often, and a check this often. */
  static final Duration PROGRESS_EVERY = Duration.ofMillis(200);

  private final CorrelatorConfig config;
  private final CorrelatorMetrics metrics;
  private final ValueFields.Reader values;
  private final boolean repartitions;
  private final Map<String, SourceProgress> progress = new HashMap<>();
  private SourceProgress lastSource;
  private ProcessorContext<String, Captured> context;

  /** What one source partition has been read up to, and what a marker last said of it. */
  private static final class SourceProgress {
    final String topic;
    final int partition;
    long eventTime = Long.MIN_VALUE;
    long sentTime;
    long sentAt = Long.MIN_VALUE;

    SourceProgress(String topic, int partition) {
      this.topic = topic;
      this.partition = partition;
    }
  }

  CaptureProcessor(CorrelatorConfig config, CorrelatorMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
    this.values = ValueFields.reader(config);
    this.repartitions = config.groupBy().repartitions();
  }

  @Override
  public void init(ProcessorContext<String, Captured> context) {
    this.context = context;
    if (repartitions) {
      // The task's partition of every input topic reports from the start, records or not, so a
      // partition held back at start holds the windows (until it is idle) instead of being unknown.
      for (String topic : config.inputTopics()) {
        source(topic, context.taskId().partition());
      }
      context.schedule(PROGRESS_EVERY, PunctuationType.WALL_CLOCK_TIME, this::reportProgress);
    }
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
    ValueFields.Fields fields;
    try {
      fields = values.read(source.topic(), record.value()); // the value's only decoding
    } catch (ValueFields.UnreadableValue e) {
      throw invalid(e.outcome(), e.getMessage());
    }
    String key = groupKey(record, fields);
    if (key == null) {
      throw invalid(Outcome.INVALID_KEY, "no group key (" + describeGroupBy() + ")");
    }
    Double aggregate = fields.aggregate();
    boolean hasValue = aggregate != null;
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
            hasValue ? aggregate : 0);
    // Headers stay with the record within the task (a late record's dead letter keeps them), but
    // are not copied into the repartition topic: the contribution already holds the contexts.
    if (!repartitions) {
      context.forward(record.withKey(key).withValue(contribution));
      return;
    }
    context.forward(
        record.withKey(key).withValue((Captured) contribution).withHeaders(new RecordHeaders()));
    SourceProgress partition = source(source.topic(), source.partition());
    partition.eventTime = Math.max(partition.eventTime, record.timestamp());
    long now = context.currentSystemTimeMs();
    if (partition.sentAt == Long.MIN_VALUE
        || WindowSpec.minus(now, partition.sentAt) >= PROGRESS_EVERY.toMillis()) {
      report(partition, now);
    }
  }

  /**
   * The source partition's progress. A task reads few partitions, mostly in runs of one, so the
   * last one is kept at hand: no key is built per record.
   */
  private SourceProgress source(String topic, int partition) {
    SourceProgress last = lastSource;
    if (last == null || last.partition != partition || !last.topic.equals(topic)) {
      last =
          progress.computeIfAbsent(
              topic + "-" + partition, name -> new SourceProgress(topic, partition));
      lastSource = last;
    }
    return last;
  }

  /**
   * Multicasts the progress of every source partition that moved since its last marker, or never
   * had one, to every partition of the repartition topic (see {@link ProgressPartitioner}).
   */
  private void reportProgress(long now) {
    for (SourceProgress partition : progress.values()) {
      if (partition.sentAt == Long.MIN_VALUE || partition.eventTime != partition.sentTime) {
        report(partition, now);
      }
    }
  }

  private void report(SourceProgress partition, long now) {
    Progress marker = new Progress(partition.topic, partition.partition, partition.eventTime);
    long timestamp = partition.eventTime >= 0 ? partition.eventTime : now;
    context.forward(
        new Record<String, Captured>(
            partition.topic + "-" + partition.partition, marker, timestamp, new RecordHeaders()));
    partition.sentTime = partition.eventTime;
    partition.sentAt = now;
  }

  private String groupKey(Record<byte[], byte[]> record, ValueFields.Fields fields) {
    return switch (config.groupBy().source()) {
      case RECORD_KEY -> GroupKeys.of(record.key());
      case HEADER -> {
        byte[] header = GroupKeys.lastHeader(record.headers(), config.groupBy().name());
        yield header == null || header.length == 0 ? null : GroupKeys.of(header);
      }
      case VALUE_FIELD -> fields.groupKey();
    };
  }

  private String describeGroupBy() {
    GroupBy groupBy = config.groupBy();
    return switch (groupBy.source()) {
      case RECORD_KEY -> "null record key";
      case HEADER -> "header " + groupBy.name() + " missing or empty";
      case VALUE_FIELD -> "value field " + groupBy.name() + " missing or null";
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
