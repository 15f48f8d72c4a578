package io.linkcorrelator.streams;

import static java.util.Objects.requireNonNull;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.kstream.Aggregator;
import org.apache.kafka.streams.kstream.Initializer;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KeyValueMapper;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Reducer;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.StoreBuilder;

/**
 * A grouped and windowed stream, to aggregate into a stream of final, linked results: one record
 * per (key, window) when the window closes, keyed by Kafka Streams' {@link Windowed} key, its
 * headers carrying the aggregate span's context. See {@link LinkedAggregations} for the spans, the
 * fold at close and what happens to late and bad records.
 *
 * <p>The {@code Named} of an aggregation is required: it names its processors ({@code
 * <name>-capture}, {@code <name>}), its two state stores ({@code <name>-contributors}, {@code
 * <name>-windows}), its repartition topic after a {@code groupBy} ({@code <name>-repartition},
 * unless {@code Grouped.as} names it) and its spans ({@code aggregate <name>}, unless {@link
 * LinkedAggregations#withSpanName} names them), so that they stay the same when the topology
 * changes.
 *
 * @param <K> group key
 * @param <V> value
 */
public final class LinkedWindowedStream<K, V> {

  /** Instrumentation scope of the spans and metrics: {@value}. */
  static final String INSTRUMENTATION_NAME = "io.linkcorrelator";

  private final LinkedAggregations linked;
  private final KStream<?, ?> stream;
  private final KeyValueMapper<?, ?, K> selector;
  private final Serde<K> keySerde;
  private final Serde<V> valueSerde;
  private final boolean repartitions;
  private final String repartitionName;
  private final WindowSpec spec;

  LinkedWindowedStream(
      LinkedAggregations linked,
      KStream<?, ?> stream,
      KeyValueMapper<?, ?, K> selector,
      Serde<K> keySerde,
      Serde<V> valueSerde,
      boolean repartitions,
      String repartitionName,
      WindowSpec spec) {
    this.linked = linked;
    this.stream = stream;
    this.selector = selector;
    this.keySerde = keySerde;
    this.valueSerde = valueSerde;
    this.repartitions = repartitions;
    this.repartitionName = repartitionName;
    this.spec = spec;
  }

  /**
   * Counts the records of each window. Values are not kept (only their trace context and origin).
   *
   * @param named names the aggregation (required)
   * @return one count per (key, window), when the window closes
   */
  public KStream<Windowed<K>, Long> count(Named named) {
    return build(named, false, () -> 0L, (key, value, contributor, count) -> count + 1);
  }

  /**
   * Reduces the values of each window: the first value, then {@code reducer.apply(aggregate,
   * value)} for each next one, in event-time order.
   *
   * @param reducer combines the aggregate so far with the next value
   * @param named names the aggregation (required)
   * @return one reduced value per (key, window), when the window closes
   */
  public KStream<Windowed<K>, V> reduce(Reducer<V> reducer, Named named) {
    requireNonNull(reducer, "reducer");
    return build(
        named,
        true,
        () -> null,
        (key, value, contributor, aggregate) ->
            aggregate == null ? value : reducer.apply(aggregate, value));
  }

  /**
   * Aggregates the values of each window: {@code initializer} once per window, then {@code
   * aggregator} for each value, in event-time order (ties in source topic, partition and offset
   * order), when the window closes. No serde is needed for the aggregate: it is never stored.
   *
   * @param initializer the aggregate of an empty window
   * @param aggregator folds the next value into the aggregate
   * @param named names the aggregation (required)
   * @param <VA> aggregate
   * @return one aggregate per (key, window), when the window closes
   */
  public <VA> KStream<Windowed<K>, VA> aggregate(
      Initializer<VA> initializer, Aggregator<? super K, ? super V, VA> aggregator, Named named) {
    requireNonNull(initializer, "initializer");
    requireNonNull(aggregator, "aggregator");
    return build(
        named,
        true,
        initializer,
        (key, value, contributor, aggregate) -> aggregator.apply(key, value, aggregate));
  }

  /**
   * Aggregates the values of each window as {@link #aggregate(Initializer, Aggregator, Named)}
   * does, the aggregator also seeing what the library knows of each record ({@link Contributor}:
   * its original topic, partition and offset, its event time, whether it is linked), so that the
   * value need not carry these: e.g. a window's first and last event time, or how many of its
   * records were linked, with a value serde that writes nothing (a value serialized to zero bytes
   * is not kept; the aggregator gets it back from zero bytes).
   *
   * @param initializer the aggregate of an empty window
   * @param aggregator folds the next value, and what is known of its record, into the aggregate
   * @param named names the aggregation (required)
   * @param <VA> aggregate
   * @return one aggregate per (key, window), when the window closes
   */
  public <VA> KStream<Windowed<K>, VA> aggregate(
      Initializer<VA> initializer,
      LinkedAggregator<? super K, ? super V, VA> aggregator,
      Named named) {
    requireNonNull(initializer, "initializer");
    requireNonNull(aggregator, "aggregator");
    return build(named, true, initializer, aggregator);
  }

  @SuppressWarnings("unchecked") // the stream's key type is the selector's input type
  private <VA> KStream<Windowed<K>, VA> build(
      Named named,
      boolean keepsValues,
      Initializer<VA> initializer,
      LinkedAggregator<? super K, ? super V, VA> aggregator) {
    String name = new NameOf(requireNonNull(named, "named")).name();
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("named: a linked aggregation needs a name");
    }
    OpenTelemetry openTelemetry = linked.openTelemetry();
    LinkOptions options = linked.options();
    CorrelatorMetrics metrics = new CorrelatorMetrics(openTelemetry);
    SerdeGrouping<Object, V, K> grouping =
        new SerdeGrouping<>(
            (KeyValueMapper<Object, V, K>) selector,
            keySerde.serializer(),
            keepsValues ? valueSerde.serializer() : null);
    KStream<String, Captured> captured =
        ((KStream<Object, V>) stream)
            .process(
                () ->
                    new LinkCapture<>(
                            grouping, options, repartitions, linked.inputTopics(), metrics)
                        .requiringHandler(name),
                Named.as(name + "-capture"));
    if (repartitions) {
      captured =
          captured.repartition(
              repartitioned(repartitionName != null ? repartitionName : name + "-repartition"));
    }
    WindowEmission.Spans spans =
        new WindowEmission.Spans(
            openTelemetry.getTracer(INSTRUMENTATION_NAME),
            spec,
            options,
            linked.spanName(name),
            linked.spanAttributes().toBuilder()
                .put("messaging.system", "kafka")
                .put("messaging.operation.type", "process")
                .put("messaging.operation.name", "aggregate")
                .build());
    Supplier<CompletableResultCode> flush = flush(openTelemetry);
    metrics.exportWaiting(flush != null && options.exportFlushTimeoutMs() > 0);
    WindowStores stores = WindowStores.named(name);
    CacheFlushes flushes = new CacheFlushes();
    WindowFold.Factory<Windowed<K>, VA> folds =
        AggregateFold.factory(
            spec,
            keySerde.deserializer(),
            keepsValues ? valueSerde.deserializer() : null,
            initializer,
            aggregator);
    BooleanSupplier exportRoom = linked.exportRoom();
    ProcessorSupplier<String, Captured, Windowed<K>, VA> window =
        new ProcessorSupplier<>() {
          @Override
          public Processor<String, Captured, Windowed<K>, VA> get() {
            return new WindowProcessor<>(
                spans,
                repartitions,
                stores,
                flushes,
                linked.inputTopics(),
                folds,
                metrics,
                new SpanFlush(flush, options.exportFlushTimeoutMs(), metrics::exportWaiting),
                exportRoom);
          }

          @Override
          public Set<StoreBuilder<?>> stores() {
            return stores.builders(flushes);
          }
        };
    return captured.process(window, Named.as(name));
  }

  /** The repartition by group key, with {@link Progress} markers multicast to every partition. */
  static Repartitioned<String, Captured> repartitioned(String name) {
    return Repartitioned.<String, Captured>as(name)
        .withKeySerde(Serdes.String())
        .withStreamPartitioner(ProgressPartitioner.INSTANCE)
        .withValueSerde(ContributionSerde.INSTANCE);
  }

  /** The SDK's flush, which results wait for; null when {@code openTelemetry} is not the SDK. */
  static Supplier<CompletableResultCode> flush(OpenTelemetry openTelemetry) {
    return openTelemetry instanceof OpenTelemetrySdk sdk
        ? () -> sdk.getSdkTracerProvider().forceFlush()
        : null;
  }

  /** Reads a {@link Named}'s name, which Kafka keeps protected. */
  private static final class NameOf extends Named {
    NameOf(Named named) {
      super(named);
    }

    String name() {
      return name;
    }
  }
}
