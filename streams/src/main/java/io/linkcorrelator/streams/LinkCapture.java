package io.linkcorrelator.streams;

import io.linkcorrelator.streams.CorrelatorMetrics.Outcome;
import io.linkcorrelator.streams.propagation.TraceContext;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.LogAndFailProcessingExceptionHandler;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Capture: for each input record, a {@link Contribution} naming the original message (topic,
 * partition, offset, event time), the producer span context(s) from its headers, and the value to
 * fold at close, under the group key its {@link Grouping} gives. A record that cannot be grouped
 * (negative or far-future timestamp, tombstone, or whatever the grouping rejects: no key, an
 * undecodable value) is counted and raised as an {@link InvalidRecordException}, which Kafka
 * Streams' processing exception handler logs and sends to the dead-letter topic.
 *
 * <p>When the topology repartitions, it also reports each source partition's event-time progress as
 * a {@link Progress} marker, multicast to every window task: after a batch of records (at most one
 * marker per partition every {@link #PROGRESS_EVERY}) and on a wall-clock punctuation, so that a
 * partition without records is known too.
 *
 * @param <K> input key
 * @param <V> input value
 */
final class LinkCapture<K, V> implements Processor<K, V, String, Captured> {

  private static final Logger LOG = LoggerFactory.getLogger(LinkCapture.class);

  /** At most one progress marker per source partition this often, and a check this often. */
  static final Duration PROGRESS_EVERY = Duration.ofMillis(200);

  /**
   * What differs between the application and the library: a record's group key and the value the
   * window's fold reads at close.
   *
   * @param <K> input key
   * @param <V> input value
   */
  interface Grouping<K, V> {

    /**
     * The group key and value of a record that is neither a tombstone nor out of time.
     *
     * @param topic the record's source topic
     * @throws Rejected when the record cannot be grouped
     */
    Grouped group(Record<K, V> record, String topic);

    /** How a missing group key is described in the dead letter's reason. */
    String describeMissingKey();
  }

  /**
   * A record's group key and value.
   *
   * @param key the group key ({@link GroupKeys}), null when the record has none
   * @param value what the fold reads at close, null for nothing
   */
  record Grouped(String key, Bytes value) {}

  /** Thrown by a {@link Grouping} for a record it cannot group. */
  static final class Rejected extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Outcome outcome;

    Rejected(Outcome outcome, String reason) {
      super(reason, null, false, false);
      this.outcome = outcome;
    }
  }

  private final Grouping<K, V> grouping;
  private final LinkOptions options;
  private final boolean repartitions;
  private final List<String> inputTopics;
  private final CorrelatorMetrics metrics;
  private String requiresHandlerOf;
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

  /**
   * @param repartitions whether a repartition follows (progress markers are sent)
   * @param inputTopics the source topics, when known: their partition of this task reports progress
   *     from the start, records or not; otherwise a partition reports from its first record
   */
  LinkCapture(
      Grouping<K, V> grouping,
      LinkOptions options,
      boolean repartitions,
      List<String> inputTopics,
      CorrelatorMetrics metrics) {
    this.grouping = grouping;
    this.options = options;
    this.repartitions = repartitions;
    this.inputTopics = List.copyOf(inputTopics);
    this.metrics = metrics;
  }

  /**
   * Makes the capture fail at start unless Kafka Streams' processing exception handler is one that
   * can go on ({@link InvalidRecordException}s are how bad and late records leave the stream): the
   * library API's case, where the user's configuration decides it.
   *
   * @param aggregation the aggregation's name, for the error
   * @return this
   */
  LinkCapture<K, V> requiringHandler(String aggregation) {
    this.requiresHandlerOf = aggregation;
    return this;
  }

  @Override
  public void init(ProcessorContext<String, Captured> context) {
    this.context = context;
    if (requiresHandlerOf != null) {
      Object handler =
          context.appConfigs().get(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG);
      String name = handler instanceof Class<?> type ? type.getName() : String.valueOf(handler);
      if (handler == null || name.equals(LogAndFailProcessingExceptionHandler.class.getName())) {
        throw new ConfigException(
            "linked aggregation "
                + requiresHandlerOf
                + " needs "
                + StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG
                + " set to a handler that goes on, e.g. "
                + DeadLetterHandler.class.getName()
                + ": late and bad records are raised to it, and Kafka's default ("
                + LogAndFailProcessingExceptionHandler.class.getSimpleName()
                + ") would stop the stream thread on the first one");
      }
    }
    if (repartitions) {
      // The task's partition of every input topic reports from the start, records or not, so a
      // partition held back at start holds the windows (until it is idle) instead of being unknown.
      for (String topic : inputTopics) {
        source(topic, context.taskId().partition());
      }
      context.schedule(PROGRESS_EVERY, PunctuationType.WALL_CLOCK_TIME, this::reportProgress);
    }
  }

  @Override
  public void process(Record<K, V> record) {
    RecordMetadata source = context.recordMetadata().orElseThrow();
    if (record.timestamp() < 0) {
      throw invalid(Outcome.INVALID_TIMESTAMP, "negative timestamp " + record.timestamp());
    }
    long latest = WindowSpec.plus(context.currentSystemTimeMs(), options.maxFutureMs());
    if (record.timestamp() > latest) {
      // One such record would move stream time ahead and close every open window early.
      throw invalid(
          Outcome.INVALID_TIMESTAMP,
          "timestamp "
              + record.timestamp()
              + " is more than "
              + options.maxFutureMs()
              + " ms ahead of the wall clock (the max future: correlator.max.future.ms in the"
              + " application, withMaxFuture in the library)");
    }
    if (record.value() == null) {
      throw invalid(Outcome.TOMBSTONE, "null value (tombstone)");
    }
    Grouped grouped;
    try {
      grouped = grouping.group(record, source.topic());
    } catch (Rejected e) {
      throw invalid(e.outcome, e.getMessage());
    }
    if (grouped.key() == null) {
      throw invalid(Outcome.INVALID_KEY, "no group key (" + grouping.describeMissingKey() + ")");
    }
    List<TraceContext> contexts;
    try {
      contexts = options.extractor().extract(record.headers());
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
            grouped.value());
    // Headers stay with the record within the task (a late record's dead letter keeps them), but
    // are not copied into the repartition topic: the contribution already holds the contexts.
    if (!repartitions) {
      // One copy of the record (each with* copies its headers).
      context.forward(
          new Record<String, Captured>(
              grouped.key(), contribution, record.timestamp(), record.headers()));
      return;
    }
    context.forward(
        new Record<String, Captured>(
            grouped.key(), contribution, record.timestamp(), new RecordHeaders()));
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

  private InvalidRecordException invalid(Outcome outcome, String reason) {
    metrics.record(outcome);
    return new InvalidRecordException(outcome.name().toLowerCase(Locale.ROOT) + ": " + reason);
  }

  private static String where(RecordMetadata source) {
    return source.topic() + "-" + source.partition() + "@" + source.offset();
  }
}
