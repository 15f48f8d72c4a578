package io.linkcorrelator.app;

import static java.util.Objects.requireNonNull;

import io.linkcorrelator.streams.LinkedAggregations;
import io.linkcorrelator.streams.WindowSpec;
import io.linkcorrelator.streams.propagation.TraceContextExtractor;
import io.linkcorrelator.streams.propagation.TraceFormats;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;

/**
 * What the correlator does: which topics it reads and writes, the windows, the group key, the
 * aggregate, the link budgets and the trace-context formats. Immutable; built with {@link
 * #builder()}, which validates everything and names the configuration key of a bad value.
 */
public final class CorrelatorConfig {

  /** Default links per exported span: {@value}, OpenTelemetry's default span link limit. */
  public static final int DEFAULT_MAX_LINKS_PER_SPAN =
      LinkedAggregations.DEFAULT_MAX_LINKS_PER_SPAN;

  /**
   * Default budget of the JSON the Datadog Agent builds from a span's links for its {@code
   * _dd.span_links} tag: {@value} characters, above which the Agent truncates the tag.
   */
  public static final int DEFAULT_MAX_LINKS_JSON_CHARS =
      LinkedAggregations.DEFAULT_MAX_LINKS_JSON_CHARS;

  /** Default of {@code correlator.export.flush.timeout.ms}: {@value}. */
  public static final long DEFAULT_EXPORT_FLUSH_TIMEOUT_MS = 5_000L;

  /**
   * Default of {@code correlator.max.future.ms}: {@value} (one hour, what Kafka 4 brokers accept by
   * default: {@code log.message.timestamp.after.max.ms}).
   */
  public static final long DEFAULT_MAX_FUTURE_MS = 3_600_000L;

  /**
   * Default of {@code correlator.partition.idle.ms}: {@value} (after a repartition, an upstream
   * partition whose event time has not moved for this long stops holding windows open).
   */
  public static final long DEFAULT_PARTITION_IDLE_MS = 10_000L;

  /**
   * Default of {@code correlator.window.idle.close.ms}: {@value} (when stream time has not moved
   * for this long, windows whose end plus grace has passed on the wall clock close).
   */
  public static final long DEFAULT_WINDOW_IDLE_CLOSE_MS = 30_000L;

  private final String applicationId;
  private final List<String> inputTopics;
  private final String outputTopic;
  private final WindowSpec window;
  private final GroupBy groupBy;
  private final String aggregateField;
  private final Set<String> aggregateFunctions;
  private final Schema valueSchema;
  private final ValueFormat valueFormat;
  private final int maxLinksPerSpan;
  private final int maxLinksJsonChars;
  private final long maxFutureMs;
  private final long exportFlushTimeoutMs;
  private final long partitionIdleMs;
  private final long windowIdleCloseMs;
  private final TraceContextExtractor extractor;
  private final TextMapPropagator injector;

  private CorrelatorConfig(Builder b) {
    this.applicationId = required(b.applicationId, "application.id");
    if (b.inputTopics == null || b.inputTopics.isEmpty()) {
      throw new IllegalArgumentException("correlator.input.topics must name at least one topic");
    }
    this.inputTopics = List.copyOf(b.inputTopics);
    this.outputTopic = required(b.outputTopic, "correlator.output.topic");
    if (inputTopics.contains(outputTopic)) {
      throw new IllegalArgumentException(
          "correlator.output.topic "
              + outputTopic
              + " must not be one of correlator.input.topics "
              + inputTopics);
    }
    this.window = requireNonNull(b.window, "correlator.window.type");
    this.groupBy = requireNonNull(b.groupBy, "correlator.group.by");
    this.aggregateField =
        b.aggregateField == null || b.aggregateField.isBlank() ? null : b.aggregateField;
    this.valueSchema = b.valueSchema;
    this.aggregateFunctions = b.aggregateFunctions;
    boolean readsField = aggregateField != null || groupBy.source() == GroupBy.Source.VALUE_FIELD;
    this.valueFormat = valueFormat(b.valueFormat, valueSchema, readsField);
    ValueFields.validate(this);
    if (b.maxLinksPerSpan < 1) {
      throw new IllegalArgumentException(
          "correlator.links.per.span.max must be >= 1, got " + b.maxLinksPerSpan);
    }
    this.maxLinksPerSpan = b.maxLinksPerSpan;
    if (b.maxLinksJsonChars < LinkedAggregations.MIN_LINKS_JSON_CHARS) {
      throw new IllegalArgumentException(
          "correlator.links.json.max.chars must be >= "
              + LinkedAggregations.MIN_LINKS_JSON_CHARS
              + " (room for one link), got "
              + b.maxLinksJsonChars);
    }
    this.maxLinksJsonChars = b.maxLinksJsonChars;
    if (b.maxFutureMs < 0) {
      throw new IllegalArgumentException(
          "correlator.max.future.ms must be >= 0, got " + b.maxFutureMs);
    }
    this.maxFutureMs = b.maxFutureMs;
    if (b.exportFlushTimeoutMs < 0) {
      throw new IllegalArgumentException(
          "correlator.export.flush.timeout.ms must be >= 0, got " + b.exportFlushTimeoutMs);
    }
    this.exportFlushTimeoutMs = b.exportFlushTimeoutMs;
    if (b.partitionIdleMs < 1) {
      throw new IllegalArgumentException(
          "correlator.partition.idle.ms must be >= 1, got " + b.partitionIdleMs);
    }
    this.partitionIdleMs = b.partitionIdleMs;
    if (b.windowIdleCloseMs < 0) {
      throw new IllegalArgumentException(
          "correlator.window.idle.close.ms must be >= 0 (0 switches it off), got "
              + b.windowIdleCloseMs);
    }
    this.windowIdleCloseMs = b.windowIdleCloseMs;
    if (groupBy.repartitions() && windowIdleCloseMs > 0 && windowIdleCloseMs <= partitionIdleMs) {
      // Else a partition that lags would see its windows closed by the wall clock while it holds
      // them, and its records dead-lettered as late.
      throw new IllegalArgumentException(
          "correlator.window.idle.close.ms ("
              + windowIdleCloseMs
              + ") must be 0 or greater than correlator.partition.idle.ms ("
              + partitionIdleMs
              + ") when correlator.group.by repartitions");
    }
    this.extractor = requireNonNull(b.extractor, "correlator.trace.extract");
    this.injector = requireNonNull(b.injector, "correlator.trace.inject");
  }

  private static ValueFormat valueFormat(ValueFormat set, Schema schema, boolean readsField) {
    ValueFormat format = set != null ? set : schema != null ? ValueFormat.AVRO : ValueFormat.NONE;
    if (format == ValueFormat.AVRO && schema == null) {
      throw new IllegalArgumentException(
          "correlator.value.schema is required when correlator.value.format is avro");
    }
    if (format != ValueFormat.AVRO && schema != null) {
      throw new IllegalArgumentException(
          "correlator.value.schema is set but correlator.value.format is "
              + format.name().toLowerCase(java.util.Locale.ROOT)
              + "; the schema is read only with avro");
    }
    if (schema != null && schema.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException(
          "correlator.value.schema must be an Avro record schema, got " + schema.getType());
    }
    if (format == ValueFormat.NONE && readsField) {
      throw new IllegalArgumentException(
          "correlator.value.format must be json or avro (with correlator.value.schema) when"
              + " correlator.group.by is a value field or correlator.aggregate.field is set; got "
              + (set == null ? "none (the default without a schema)" : "none"));
    }
    return format;
  }

  private static String required(String value, String key) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(key + " is required");
    }
    return value;
  }

  /**
   * A builder with the defaults: group by record key, count only, 128 links per span, 25,000
   * characters of Datadog link JSON per span, extraction order {@value
   * TraceFormats#DEFAULT_EXTRACT_ORDER}, injection {@value TraceFormats#DEFAULT_INJECT}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The Kafka Streams application id; also the consumer group in span attributes and part of the
   * deterministic span ids.
   *
   * @return the application id
   */
  public String applicationId() {
    return applicationId;
  }

  /**
   * The topics read; a record key grouping expects them co-partitioned.
   *
   * @return the input topics
   */
  public List<String> inputTopics() {
    return inputTopics;
  }

  /**
   * The topic the window results are written to.
   *
   * @return the output topic
   */
  public String outputTopic() {
    return outputTopic;
  }

  /**
   * The windows.
   *
   * @return the window spec
   */
  public WindowSpec window() {
    return window;
  }

  /**
   * The group key; default the record key.
   *
   * @return the group-by
   */
  public GroupBy groupBy() {
    return groupBy;
  }

  /**
   * The numeric value field aggregated into sum/min/max (a dotted path, or a JSON Pointer with the
   * {@code json} format), or null to count only (the default).
   *
   * @return the field path, or null
   */
  public String aggregateField() {
    return aggregateField;
  }

  /**
   * Which of sum, min and max the result carries; default all three.
   *
   * @return the function names
   */
  public Set<String> aggregateFunctions() {
    return aggregateFunctions;
  }

  /**
   * The Avro schema of input values (format {@code avro}); null otherwise (the default).
   *
   * @return the schema, or null
   */
  public Schema valueSchema() {
    return valueSchema;
  }

  /**
   * How input values are read; default {@link ValueFormat#AVRO} when a value schema is set, else
   * {@link ValueFormat#NONE} (values are never parsed).
   *
   * @return the format
   */
  public ValueFormat valueFormat() {
    return valueFormat;
  }

  /**
   * Most links on one exported span; default {@value #DEFAULT_MAX_LINKS_PER_SPAN}. The tracer's
   * span limits must allow at least this many.
   *
   * @return the limit
   */
  public int maxLinksPerSpan() {
    return maxLinksPerSpan;
  }

  /**
   * Most characters of Datadog {@code _dd.span_links} JSON one span's links may make; default
   * {@value #DEFAULT_MAX_LINKS_JSON_CHARS}.
   *
   * @return the budget
   */
  public int maxLinksJsonChars() {
    return maxLinksJsonChars;
  }

  /**
   * How far ahead of the wall clock a record's timestamp may be; later ones are invalid (they would
   * move stream time ahead and close every open window early). Default {@value
   * #DEFAULT_MAX_FUTURE_MS} ms, one hour.
   *
   * @return milliseconds
   */
  public long maxFutureMs() {
    return maxFutureMs;
  }

  /**
   * How long a window's result waits for its spans to be exported before it is written; 0 never
   * waits. After a timeout results stop waiting until an export succeeds again. Default {@value
   * #DEFAULT_EXPORT_FLUSH_TIMEOUT_MS} ms.
   *
   * @return milliseconds
   */
  public long exportFlushTimeoutMs() {
    return exportFlushTimeoutMs;
  }

  /**
   * After a repartition, how long an upstream source partition's event time may stand still before
   * it stops holding windows open: windows close by the slowest upstream partition that moved
   * within this time. Default {@value #DEFAULT_PARTITION_IDLE_MS} ms. Without a repartition it has
   * no effect.
   *
   * @return milliseconds, at least 1
   */
  public long partitionIdleMs() {
    return partitionIdleMs;
  }

  /**
   * How long stream time must stand still before windows whose end plus grace has passed on the
   * wall clock close anyway (and stream time moves to their close time); 0 switches it off, for
   * exactly Kafka Streams' behaviour, where a window closes only when a later record moves stream
   * time. Default {@value #DEFAULT_WINDOW_IDLE_CLOSE_MS} ms.
   *
   * @return milliseconds; 0 when off
   */
  public long windowIdleCloseMs() {
    return windowIdleCloseMs;
  }

  /**
   * How producer span contexts are read from message headers; default {@code
   * TraceFormats.extractor("tracecontext,datadog,b3,jaeger")}.
   *
   * @return the extractor
   */
  public TraceContextExtractor extractor() {
    return extractor;
  }

  /**
   * How the aggregate span's context is written into output headers; default {@code
   * TraceFormats.injector("tracecontext")}.
   *
   * @return the propagator used for injection
   */
  public TextMapPropagator injector() {
    return injector;
  }

  /** Builds a {@link CorrelatorConfig}. */
  public static final class Builder {
    private String applicationId;
    private List<String> inputTopics;
    private String outputTopic;
    private WindowSpec window;
    private GroupBy groupBy = GroupBy.recordKey();
    private String aggregateField;
    private Schema valueSchema;
    private ValueFormat valueFormat;
    private Set<String> aggregateFunctions = Set.of("sum", "min", "max");
    private int maxLinksPerSpan = DEFAULT_MAX_LINKS_PER_SPAN;
    private int maxLinksJsonChars = DEFAULT_MAX_LINKS_JSON_CHARS;
    private long maxFutureMs = DEFAULT_MAX_FUTURE_MS;
    private long partitionIdleMs = DEFAULT_PARTITION_IDLE_MS;
    private long windowIdleCloseMs = DEFAULT_WINDOW_IDLE_CLOSE_MS;
    private long exportFlushTimeoutMs = DEFAULT_EXPORT_FLUSH_TIMEOUT_MS;
    private TraceContextExtractor extractor =
        TraceFormats.extractor(TraceFormats.DEFAULT_EXTRACT_ORDER);
    private TextMapPropagator injector = TraceFormats.injector(TraceFormats.DEFAULT_INJECT);

    private Builder() {}

    /**
     * Sets {@code application.id} (required).
     *
     * @param applicationId the Kafka Streams application id
     * @return this
     */
    public Builder applicationId(String applicationId) {
      this.applicationId = applicationId;
      return this;
    }

    /**
     * Sets {@code correlator.input.topics} (required).
     *
     * @param topics one or more topics
     * @return this
     */
    public Builder inputTopics(String... topics) {
      this.inputTopics = List.of(topics);
      return this;
    }

    /**
     * Sets {@code correlator.output.topic} (required).
     *
     * @param topic the output topic
     * @return this
     */
    public Builder outputTopic(String topic) {
      this.outputTopic = topic;
      return this;
    }

    /**
     * Sets the windows (required).
     *
     * @param window the window spec
     * @return this
     */
    public Builder window(WindowSpec window) {
      this.window = window;
      return this;
    }

    /**
     * Sets {@code correlator.group.by}; default the record key.
     *
     * @param groupBy the group-by
     * @return this
     */
    public Builder groupBy(GroupBy groupBy) {
      this.groupBy = groupBy;
      return this;
    }

    /**
     * Sets {@code correlator.aggregate.field}; default none (count only).
     *
     * @param field a numeric field of the value, or a dotted path
     * @return this
     */
    public Builder aggregateField(String field) {
      this.aggregateField = field;
      return this;
    }

    /**
     * Sets {@code correlator.aggregate.functions}; default {@code sum,min,max}.
     *
     * @param functions comma-separated: any of sum, min, max
     * @return this
     * @throws IllegalArgumentException naming the key and the accepted values
     */
    public Builder aggregateFunctions(String functions) {
      Set<String> parsed = new java.util.LinkedHashSet<>();
      for (String function : functions.split(",")) {
        String name = function.trim().toLowerCase(java.util.Locale.ROOT);
        if (!Set.of("sum", "min", "max").contains(name)) {
          throw new IllegalArgumentException(
              "correlator.aggregate.functions must be a comma-separated list of sum, min, max; got '"
                  + functions
                  + "'");
        }
        parsed.add(name);
      }
      this.aggregateFunctions = Set.copyOf(parsed);
      return this;
    }

    /**
     * Sets {@code correlator.value.schema}; required by the {@code avro} value format.
     *
     * @param schema Avro record schema of the input values
     * @return this
     */
    public Builder valueSchema(Schema schema) {
      this.valueSchema = schema;
      return this;
    }

    /**
     * Sets {@code correlator.value.format}; default {@code avro} when a value schema is set, else
     * {@code none}.
     *
     * @param format how input values are read
     * @return this
     */
    public Builder valueFormat(ValueFormat format) {
      this.valueFormat = format;
      return this;
    }

    /**
     * Sets {@code correlator.links.per.span.max}; default {@value #DEFAULT_MAX_LINKS_PER_SPAN}.
     *
     * @param max links per exported span
     * @return this
     */
    public Builder maxLinksPerSpan(int max) {
      this.maxLinksPerSpan = max;
      return this;
    }

    /**
     * Sets {@code correlator.links.json.max.chars}; default {@value #DEFAULT_MAX_LINKS_JSON_CHARS}.
     *
     * @param max characters of Datadog link JSON per span
     * @return this
     */
    public Builder maxLinksJsonChars(int max) {
      this.maxLinksJsonChars = max;
      return this;
    }

    /**
     * Sets {@code correlator.max.future.ms}; default {@value #DEFAULT_MAX_FUTURE_MS}.
     *
     * @param millis how far ahead of the wall clock a timestamp may be
     * @return this
     */
    public Builder maxFutureMs(long millis) {
      this.maxFutureMs = millis;
      return this;
    }

    /**
     * Sets {@code correlator.export.flush.timeout.ms}; default {@value
     * #DEFAULT_EXPORT_FLUSH_TIMEOUT_MS}.
     *
     * @param millis how long a result waits for its spans' export; 0 never waits
     * @return this
     */
    public Builder exportFlushTimeoutMs(long millis) {
      this.exportFlushTimeoutMs = millis;
      return this;
    }

    /**
     * Sets {@code correlator.partition.idle.ms}; default {@value #DEFAULT_PARTITION_IDLE_MS}.
     *
     * @param millis how long an upstream partition may stand still before it is idle
     * @return this
     */
    public Builder partitionIdleMs(long millis) {
      this.partitionIdleMs = millis;
      return this;
    }

    /**
     * Sets {@code correlator.window.idle.close.ms}; default {@value #DEFAULT_WINDOW_IDLE_CLOSE_MS},
     * 0 switches it off.
     *
     * @param millis how long stream time may stand still before due windows close by wall clock
     * @return this
     */
    public Builder windowIdleCloseMs(long millis) {
      this.windowIdleCloseMs = millis;
      return this;
    }

    /**
     * Sets how contexts are extracted ({@code correlator.trace.extract}); see {@link
     * TraceFormats#extractor(String)}.
     *
     * @param extractor the extractor
     * @return this
     */
    public Builder extractor(TraceContextExtractor extractor) {
      this.extractor = extractor;
      return this;
    }

    /**
     * Sets how the aggregate context is injected into output headers ({@code
     * correlator.trace.inject}); see {@link TraceFormats#injector(String)}.
     *
     * @param injector the propagator
     * @return this
     */
    public Builder injector(TextMapPropagator injector) {
      this.injector = injector;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @return the config
     * @throws IllegalArgumentException naming the key of a missing or bad value
     */
    public CorrelatorConfig build() {
      return new CorrelatorConfig(this);
    }
  }
}
