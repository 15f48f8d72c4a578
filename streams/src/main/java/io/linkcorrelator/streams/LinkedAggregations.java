package io.linkcorrelator.streams;

import static java.util.Objects.requireNonNull;

import io.linkcorrelator.streams.propagation.TraceContextExtractor;
import io.linkcorrelator.streams.propagation.TraceFormats;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KeyValueMapper;
import org.apache.kafka.streams.kstream.internals.GroupedInternal;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Linked windowed aggregations in your own Kafka Streams topology: the entry point. It reads like
 * Kafka Streams' DSL, with the stream passed in:
 *
 * <pre>{@code
 * LinkedAggregations linked = LinkedAggregations.with(openTelemetry);
 * KStream<Windowed<String>, Long> counts =
 *     linked.groupByKey(orders, Grouped.with(Serdes.String(), orderSerde))
 *         .windowedBy(TimeWindows.ofSizeAndGrace(ofSeconds(10), ofSeconds(2)))
 *         .count(Named.as("orders-per-customer"));
 * counts.to("order-counts", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class,
 *     10_000), Serdes.Long()));
 * }</pre>
 *
 * <p>The result is a stream of <b>final</b> results, one per (key, window) when the window closes
 * (stream time past its end plus grace), with Kafka Streams' windowed keys (sliding and session
 * window ends inclusive, as the DSL emits them). For every result one aggregate span is exported,
 * with a span link to the producer span of every record that contributed (more links than one span
 * may carry go into child "chunk" spans), and the result record's headers carry the aggregate
 * span's context (W3C {@code traceparent} by default), so the trace goes on downstream. Span ids
 * are derived from the application id, key and window, so a replay after a crash exports the same
 * span.
 *
 * <p><b>The aggregate is folded when the window closes</b>, over the window's records read back
 * from the aggregation's contributor log (which keeps each accepted record's value in your value
 * serde), in event-time order, ties in source topic, partition and offset order. Per-record work
 * stays constant for every window type, and session windows need no merger. Kafka Streams' DSL
 * folds in arrival order instead: the results are the same for commutative aggregations (count,
 * sum, min, max, sets), and deterministic across replays for order-dependent ones.
 *
 * <p>Records that cannot be counted (null key or value, a key or value your serde cannot serialize,
 * a negative timestamp or one further ahead of the wall clock than {@link
 * #withMaxFuture(Duration)}) and records later than their window's grace period are raised to Kafka
 * Streams' {@code processing.exception.handler}; the aggregation fails at start unless one other
 * than Kafka's default {@code LogAndFailProcessingExceptionHandler} is set. {@link
 * DeadLetterHandler} logs them, writes them to {@code errors.dead.letter.queue.topic.name} when it
 * is set (naming the original message), and goes on.
 *
 * <p>Install {@link DeterministicIds#idGenerator()} in the tracer provider and allow at least
 * {@link #withMaxLinksPerSpan(int)} links per span ({@code SpanLimits}); when {@code openTelemetry}
 * is the SDK, a result is forwarded only once its spans are exported (at most {@link
 * #withExportFlushTimeout(Duration)}). Instances are immutable: each {@code with...} returns a
 * copy.
 */
public final class LinkedAggregations {

  /** Default of {@link #withMaxLinksPerSpan(int)}: {@value}, OpenTelemetry's default limit. */
  public static final int DEFAULT_MAX_LINKS_PER_SPAN = 128;

  /** Default of {@link #withMaxLinksJsonChars(int)}: {@value}, the Datadog Agent's tag limit. */
  public static final int DEFAULT_MAX_LINKS_JSON_CHARS = 25_000;

  /** Least value of {@link #withMaxLinksJsonChars(int)}: {@value}, room for one link. */
  public static final int MIN_LINKS_JSON_CHARS = LinkBudget.MIN_JSON_CHARS;

  /** Default of {@link #withExportFlushTimeout(Duration)}: 5 seconds. */
  public static final Duration DEFAULT_EXPORT_FLUSH_TIMEOUT = Duration.ofSeconds(5);

  /** Default of {@link #withPartitionIdle(Duration)}: 10 seconds. */
  public static final Duration DEFAULT_PARTITION_IDLE = Duration.ofSeconds(10);

  /** Default of {@link #withWindowIdleClose(Duration)}: 30 seconds. */
  public static final Duration DEFAULT_WINDOW_IDLE_CLOSE = Duration.ofSeconds(30);

  /** Default of {@link #withMaxFuture(Duration)}: one hour. */
  public static final Duration DEFAULT_MAX_FUTURE = Duration.ofHours(1);

  /** Default of {@link #withExtractFormats(String)}: {@value}. */
  public static final String DEFAULT_EXTRACT_FORMATS = TraceFormats.DEFAULT_EXTRACT_ORDER;

  /** Default of {@link #withInjectFormats(String)}: {@value} (W3C {@code traceparent}). */
  public static final String DEFAULT_INJECT_FORMATS = TraceFormats.DEFAULT_INJECT;

  private final OpenTelemetry openTelemetry;
  private final LinkOptions options;
  private final BooleanSupplier exportRoom;
  private final String spanName;
  private final Attributes spanAttributes;
  private final List<String> inputTopics;

  private LinkedAggregations(
      OpenTelemetry openTelemetry,
      LinkOptions options,
      BooleanSupplier exportRoom,
      String spanName,
      Attributes spanAttributes,
      List<String> inputTopics) {
    this.openTelemetry = openTelemetry;
    this.options = options;
    this.exportRoom = exportRoom;
    this.spanName = spanName;
    this.spanAttributes = spanAttributes;
    this.inputTopics = inputTopics;
  }

  /**
   * Linked aggregations whose spans and metrics go to {@code openTelemetry}, with the defaults.
   *
   * @param openTelemetry the tracer and meter provider; never the global one implicitly
   * @return the entry point
   */
  public static LinkedAggregations with(OpenTelemetry openTelemetry) {
    return new LinkedAggregations(
        requireNonNull(openTelemetry, "openTelemetry"),
        new LinkOptions(
            DEFAULT_MAX_LINKS_PER_SPAN,
            DEFAULT_MAX_LINKS_JSON_CHARS,
            DEFAULT_EXPORT_FLUSH_TIMEOUT.toMillis(),
            DEFAULT_PARTITION_IDLE.toMillis(),
            DEFAULT_WINDOW_IDLE_CLOSE.toMillis(),
            DEFAULT_MAX_FUTURE.toMillis(),
            TraceFormats.extractor(DEFAULT_EXTRACT_FORMATS),
            TraceFormats.injector(DEFAULT_INJECT_FORMATS)),
        () -> true,
        null,
        Attributes.empty(),
        List.of());
  }

  /**
   * Whether the span processor has room for a window's spans now: a window is emitted only while it
   * says so, otherwise emission continues later (a wall-clock punctuation retries), so that no span
   * is dropped for a full queue. With the batch span processor gated by an {@link ExportQueue}
   * ({@link ExportQueue#gated}), pass {@code exportQueue::hasRoom}. Default always true: windows
   * are emitted as soon as they close.
   *
   * @param exportRoom asked before each window is emitted, on the stream thread; cheap
   * @return a copy with the option
   */
  public LinkedAggregations withExportRoom(BooleanSupplier exportRoom) {
    return new LinkedAggregations(
        openTelemetry,
        options,
        requireNonNull(exportRoom, "withExportRoom"),
        spanName,
        spanAttributes,
        inputTopics);
  }

  /**
   * The name of every aggregate span (chunk spans: the name and {@code " links"}). Default {@code
   * "aggregate <name>"}, where name is the aggregation's {@code Named}.
   *
   * @param name not blank
   * @return a copy with the option
   * @throws IllegalArgumentException naming the option
   */
  public LinkedAggregations withSpanName(String name) {
    requireNonNull(name, "withSpanName");
    require(!name.isBlank(), "withSpanName must not be blank");
    return new LinkedAggregations(
        openTelemetry, options, exportRoom, name, spanAttributes, inputTopics);
  }

  /**
   * Attributes added to every aggregate and chunk span, e.g. {@code messaging.destination.name}
   * (the input topic); the attributes the aggregation sets itself ({@code messaging.system}, {@code
   * messaging.operation.*}, {@code messaging.consumer.group.name}, {@code correlator.*}) win over
   * these. Default none.
   *
   * @param attributes the attributes
   * @return a copy with the option
   */
  public LinkedAggregations withSpanAttributes(Attributes attributes) {
    return new LinkedAggregations(
        openTelemetry,
        options,
        exportRoom,
        spanName,
        requireNonNull(attributes, "withSpanAttributes"),
        inputTopics);
  }

  /**
   * The topics the aggregated stream reads, when known: after a {@link #groupBy}, each task's
   * partition of every one of them reports its event-time progress from the start, records or not,
   * so that a partition held back at start holds the windows open (until {@link
   * #withPartitionIdle(Duration) idle}) instead of being unknown until its first record. Default
   * none: a partition reports from its first record.
   *
   * @param topics the source topics of the stream
   * @return a copy with the option
   */
  public LinkedAggregations withInputTopics(List<String> topics) {
    return new LinkedAggregations(
        openTelemetry,
        options,
        exportRoom,
        spanName,
        spanAttributes,
        List.copyOf(requireNonNull(topics, "withInputTopics")));
  }

  /**
   * Most links on one exported span; default {@value #DEFAULT_MAX_LINKS_PER_SPAN}. The tracer
   * provider's link limit must allow at least this many.
   *
   * @param max at least 1
   * @return a copy with the option
   * @throws IllegalArgumentException naming the option
   */
  public LinkedAggregations withMaxLinksPerSpan(int max) {
    require(max >= 1, "withMaxLinksPerSpan must be >= 1, got " + max);
    return with(
        o -> copy(o, max, o.maxLinksJsonChars(), o.exportFlushTimeoutMs(), o.maxFutureMs()));
  }

  /**
   * Most characters of the Datadog Agent's {@code _dd.span_links} JSON one span's links may make;
   * default {@value #DEFAULT_MAX_LINKS_JSON_CHARS}, above which the Agent truncates the tag.
   *
   * @param max at least 2,000 (room for one link)
   * @return a copy with the option
   * @throws IllegalArgumentException naming the option
   */
  public LinkedAggregations withMaxLinksJsonChars(int max) {
    require(
        max >= LinkBudget.MIN_JSON_CHARS,
        "withMaxLinksJsonChars must be >= " + LinkBudget.MIN_JSON_CHARS + ", got " + max);
    return with(o -> copy(o, o.maxLinksPerSpan(), max, o.exportFlushTimeoutMs(), o.maxFutureMs()));
  }

  /**
   * How long a result waits for its spans' export before it is forwarded (only when {@code
   * openTelemetry} is the SDK); zero never waits (the spans of each emission are still exported at
   * once). After a timeout results stop waiting until an export succeeds again. Default 5 seconds.
   *
   * @param timeout zero or more
   * @return a copy with the option
   * @throws IllegalArgumentException naming the option
   */
  public LinkedAggregations withExportFlushTimeout(Duration timeout) {
    long millis = millis(timeout, "withExportFlushTimeout", 0);
    return with(o -> copy(o, o.maxLinksPerSpan(), o.maxLinksJsonChars(), millis, o.maxFutureMs()));
  }

  /**
   * After a {@link #groupBy} (a repartition), how long an upstream source partition's event time
   * may stand still before it stops holding windows open: windows close by the slowest upstream
   * partition that moved within this time. Default 10 seconds; no effect without a repartition.
   *
   * @param idle at least 1 ms
   * @return a copy with the option
   * @throws IllegalArgumentException naming the option
   */
  public LinkedAggregations withPartitionIdle(Duration idle) {
    long millis = millis(idle, "withPartitionIdle", 1);
    return with(
        o ->
            new LinkOptions(
                o.maxLinksPerSpan(),
                o.maxLinksJsonChars(),
                o.exportFlushTimeoutMs(),
                millis,
                o.windowIdleCloseMs(),
                o.maxFutureMs(),
                o.extractor(),
                o.injector()));
  }

  /**
   * How long stream time must stand still before windows whose end plus grace has passed on the
   * wall clock close anyway; zero switches it off, for exactly Kafka Streams' behaviour (a window
   * closes only when a later record moves stream time). Default 30 seconds. With a {@link
   * #groupBy}, it must be zero or longer than {@link #withPartitionIdle(Duration)}.
   *
   * @param idle zero or more
   * @return a copy with the option
   * @throws IllegalArgumentException naming the option
   */
  public LinkedAggregations withWindowIdleClose(Duration idle) {
    long millis = millis(idle, "withWindowIdleClose", 0);
    return with(
        o ->
            new LinkOptions(
                o.maxLinksPerSpan(),
                o.maxLinksJsonChars(),
                o.exportFlushTimeoutMs(),
                o.partitionIdleMs(),
                millis,
                o.maxFutureMs(),
                o.extractor(),
                o.injector()));
  }

  /**
   * How far ahead of the wall clock a record's timestamp may be; a later one is raised as invalid
   * (it would move stream time ahead and close every open window early). Default one hour.
   *
   * @param maxFuture zero or more
   * @return a copy with the option
   * @throws IllegalArgumentException naming the option
   */
  public LinkedAggregations withMaxFuture(Duration maxFuture) {
    long millis = millis(maxFuture, "withMaxFuture", 0);
    return with(
        o -> copy(o, o.maxLinksPerSpan(), o.maxLinksJsonChars(), o.exportFlushTimeoutMs(), millis));
  }

  /**
   * The trace-context formats read from each record's headers, in order; default {@value
   * #DEFAULT_EXTRACT_FORMATS}.
   *
   * @param formats comma-separated: {@code tracecontext}, {@code datadog}, {@code b3}, {@code
   *     jaeger}
   * @return a copy with the option
   * @throws IllegalArgumentException naming the option and the accepted values
   */
  public LinkedAggregations withExtractFormats(String formats) {
    return withExtractor(formats(() -> TraceFormats.extractor(formats), "withExtractFormats"));
  }

  /**
   * How producer span contexts are read from each record's headers, e.g. {@link
   * TraceFormats#extractor(String)}; default that of {@value #DEFAULT_EXTRACT_FORMATS}.
   *
   * @param extractor the extractor
   * @return a copy with the option
   */
  public LinkedAggregations withExtractor(TraceContextExtractor extractor) {
    requireNonNull(extractor, "withExtractor");
    return with(
        o ->
            new LinkOptions(
                o.maxLinksPerSpan(),
                o.maxLinksJsonChars(),
                o.exportFlushTimeoutMs(),
                o.partitionIdleMs(),
                o.windowIdleCloseMs(),
                o.maxFutureMs(),
                extractor,
                o.injector()));
  }

  /**
   * The formats the aggregate span's context is written in, into each result's headers; default
   * {@value #DEFAULT_INJECT_FORMATS}.
   *
   * @param formats comma-separated: {@code tracecontext}, {@code datadog}, {@code b3}, {@code
   *     b3multi}, {@code jaeger}
   * @return a copy with the option
   * @throws IllegalArgumentException naming the option and the accepted values
   */
  public LinkedAggregations withInjectFormats(String formats) {
    return withInjector(formats(() -> TraceFormats.injector(formats), "withInjectFormats"));
  }

  /**
   * How the aggregate span's context is written into each result's headers, e.g. {@link
   * TraceFormats#injector(String)}; default that of {@value #DEFAULT_INJECT_FORMATS}.
   *
   * @param injector the propagator whose {@code inject} writes the headers
   * @return a copy with the option
   */
  public LinkedAggregations withInjector(TextMapPropagator injector) {
    requireNonNull(injector, "withInjector");
    return with(
        o ->
            new LinkOptions(
                o.maxLinksPerSpan(),
                o.maxLinksJsonChars(),
                o.exportFlushTimeoutMs(),
                o.partitionIdleMs(),
                o.windowIdleCloseMs(),
                o.maxFutureMs(),
                o.extractor(),
                injector));
  }

  /**
   * Groups by the record key, as {@code stream.groupByKey(grouped)}: no repartition, so the input
   * topics must be partitioned by that key.
   *
   * @param stream the records to aggregate
   * @param grouped the key and value serdes (both required): the key's bytes are the group, the
   *     value's are kept until the window closes
   * @param <K> key
   * @param <V> value
   * @return the grouped stream, to window
   */
  public <K, V> LinkedGroupedStream<K, V> groupByKey(KStream<K, V> stream, Grouped<K, V> grouped) {
    requireNonNull(stream, "stream");
    GroupedInternal<K, V> serdes = serdes(grouped);
    return new LinkedGroupedStream<>(
        this, stream, null, serdes.keySerde(), serdes.valueSerde(), false, null);
  }

  /**
   * Groups by a new key, as {@code stream.groupBy(selector, grouped)}: the records are
   * repartitioned by it (topic {@code <application id>-<name>-repartition}, where name is {@code
   * grouped}'s name, as the DSL names it, or else the aggregation's {@code Named}), with each
   * upstream partition's event-time progress, so that windows close by the slowest active upstream
   * partition; links still name the original records.
   *
   * @param stream the records to aggregate
   * @param selector the new key of a record; null dead-letters the record
   * @param grouped the new key's and the value's serdes (both required), and optionally the
   *     repartition's name ({@code Grouped.as(name)})
   * @param <K> input key
   * @param <V> value
   * @param <KR> new key
   * @return the grouped stream, to window
   */
  public <K, V, KR> LinkedGroupedStream<KR, V> groupBy(
      KStream<K, V> stream,
      KeyValueMapper<? super K, ? super V, KR> selector,
      Grouped<KR, V> grouped) {
    requireNonNull(stream, "stream");
    requireNonNull(selector, "selector");
    GroupedInternal<KR, V> serdes = serdes(grouped);
    if (options.windowIdleCloseMs() > 0
        && options.windowIdleCloseMs() <= options.partitionIdleMs()) {
      // Else a partition that lags would see its windows closed by the wall clock while it holds
      // them, and its records dead-lettered as late.
      throw new IllegalArgumentException(
          "withWindowIdleClose ("
              + options.windowIdleCloseMs()
              + " ms) must be 0 or longer than withPartitionIdle ("
              + options.partitionIdleMs()
              + " ms) with groupBy");
    }
    return new LinkedGroupedStream<>(
        this, stream, selector, serdes.keySerde(), serdes.valueSerde(), true, serdes.name());
  }

  OpenTelemetry openTelemetry() {
    return openTelemetry;
  }

  LinkOptions options() {
    return options;
  }

  /** Whether the span processor has room for a window's spans now. */
  BooleanSupplier exportRoom() {
    return exportRoom;
  }

  /** The aggregate spans' name for an aggregation named {@code name}. */
  String spanName(String name) {
    return spanName != null ? spanName : "aggregate " + name;
  }

  Attributes spanAttributes() {
    return spanAttributes;
  }

  List<String> inputTopics() {
    return inputTopics;
  }

  private static <K, V> GroupedInternal<K, V> serdes(Grouped<K, V> grouped) {
    GroupedInternal<K, V> internal = new GroupedInternal<>(requireNonNull(grouped, "grouped"));
    Serde<K> keys = internal.keySerde();
    Serde<V> values = internal.valueSerde();
    if (keys == null || values == null) {
      throw new IllegalArgumentException(
          "grouped needs both serdes, Grouped.with(keySerde, valueSerde): a linked aggregation"
              + " serializes keys and keeps values itself");
    }
    return internal;
  }

  /**
   * Counts the open (group key, window) entries in a linked aggregation's window state, the store
   * {@code <name>-windows}, read through Kafka Streams' interactive queries ({@code
   * QueryableStoreTypes.keyValueStore()}). Exact (under {@code at_least_once} an emitted window is
   * counted until the next commit or two, when it leaves the store); it reads every open window's
   * key, so its cost grows with the open windows (not with their contributors).
   *
   * @param windowState the store {@code <name>-windows}
   * @return the open windows it holds
   */
  public static long openWindows(ReadOnlyKeyValueStore<Bytes, byte[]> windowState) {
    long open = 0;
    try (KeyValueIterator<Bytes, byte[]> windows =
        windowState.range(StateKeys.windowsFrom(), StateKeys.windowsTo())) {
      while (windows.hasNext()) {
        if (windows.next().key.get()[0] == StateKeys.WINDOW) {
          open++;
        }
      }
    }
    return open;
  }

  private LinkedAggregations with(UnaryOperator<LinkOptions> change) {
    return new LinkedAggregations(
        openTelemetry, change.apply(options), exportRoom, spanName, spanAttributes, inputTopics);
  }

  private static LinkOptions copy(
      LinkOptions o, int links, int jsonChars, long flushTimeoutMs, long maxFutureMs) {
    return new LinkOptions(
        links,
        jsonChars,
        flushTimeoutMs,
        o.partitionIdleMs(),
        o.windowIdleCloseMs(),
        maxFutureMs,
        o.extractor(),
        o.injector());
  }

  private static long millis(Duration duration, String option, long min) {
    requireNonNull(duration, option);
    long millis;
    try {
      millis = duration.toMillis();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(option + " is too long: " + duration, e);
    }
    require(millis >= min, option + " must be >= " + min + " ms, got " + duration);
    return millis;
  }

  private static <T> T formats(java.util.function.Supplier<T> parse, String option) {
    try {
      return parse.get();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          e.getMessage()
              .replace("correlator.trace.extract", option)
              .replace("correlator.trace.inject", option),
          e);
    }
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
