package io.linkcorrelator.streams;

import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * Builds the correlator's Kafka Streams {@link Topology}: a pure function of the configuration and
 * the injected {@link OpenTelemetry}, which supplies the tracer for the aggregate spans and the
 * meter for the counters.
 *
 * <pre>
 * input topics ─► capture (group key, Contribution) ─► [repartition by group key, with
 *   Progress markers multicast] ─► window (contributor log, windows, close index, stream time)
 *   ─► output topic (WindowResult + traceparent)
 * </pre>
 *
 * <p>When {@code openTelemetry} is the SDK, a window's result is written only once its spans are
 * exported (bounded by {@link CorrelatorConfig#exportFlushTimeoutMs()}), so a crash cannot lose the
 * spans of a result that survives. Exporters are not built here: the caller's OpenTelemetry decides
 * where spans go. Its tracer provider should use {@link DeterministicIds#idGenerator()} and allow
 * at least {@link CorrelatorConfig#maxLinksPerSpan()} links per span.
 */
public final class CorrelatorTopology {

  /** The contributor log store: {@value}. */
  public static final String LOG_STORE = "correlator-contributors";

  /** The open-windows store: {@value}. */
  public static final String WINDOWS_STORE = "correlator-windows";

  /** The close-index store: {@value}. */
  public static final String CLOSE_STORE = "correlator-close-index";

  /** The store of the correlator's own stream time: {@value}. */
  public static final String STREAM_TIME_STORE = "correlator-stream-time";

  /** Name of the repartition step when grouping by a header or a value field: {@value}. */
  public static final String REPARTITION = "correlator-regroup";

  /** Instrumentation scope of the spans and metrics: {@value}. */
  public static final String INSTRUMENTATION_NAME = "io.linkcorrelator";

  private CorrelatorTopology() {}

  /**
   * Builds the topology.
   *
   * @param config what to correlate
   * @param openTelemetry where spans and metrics go
   * @return the topology, to run with {@code new KafkaStreams(topology, streamsProperties)}
   */
  public static Topology build(CorrelatorConfig config, OpenTelemetry openTelemetry) {
    return build(config, openTelemetry, () -> true);
  }

  /**
   * Builds the topology, emitting a window only while {@code exportRoom} says the span processor
   * has room for its spans ({@link ExportQueue#hasRoom()}); otherwise emission continues later.
   *
   * @param config what to correlate
   * @param openTelemetry where spans and metrics go
   * @param exportRoom whether the span processor has room for a window's spans now
   * @return the topology, to run with {@code new KafkaStreams(topology, streamsProperties)}
   */
  public static Topology build(
      CorrelatorConfig config, OpenTelemetry openTelemetry, BooleanSupplier exportRoom) {
    CorrelatorMetrics metrics = new CorrelatorMetrics(openTelemetry);
    WindowEmission.Spans spans =
        new WindowEmission.Spans(
            openTelemetry.getTracer(INSTRUMENTATION_NAME),
            config,
            "aggregate " + String.join(",", config.inputTopics()),
            commonAttributes(config));

    Supplier<CompletableResultCode> flush =
        openTelemetry instanceof OpenTelemetrySdk sdk
            ? () -> sdk.getSdkTracerProvider().forceFlush()
            : null;
    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, Captured> contributions =
        builder.stream(
                config.inputTopics(),
                Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("correlator-input"))
            .process(() -> new CaptureProcessor(config, metrics), Named.as("correlator-capture"));
    if (config.groupBy().repartitions()) {
      contributions =
          contributions.repartition(
              Repartitioned.<String, Captured>as(REPARTITION)
                  .withKeySerde(Serdes.String())
                  .withStreamPartitioner(ProgressPartitioner.INSTANCE)
                  .withValueSerde(ContributionSerde.INSTANCE));
    }
    // One exporter for all tasks: the gauge starts as configured; each task's SpanFlush reports
    // when its results stop and start waiting again.
    metrics.exportWaiting(flush != null && config.exportFlushTimeoutMs() > 0);
    builder.addStateStore(store(LOG_STORE));
    builder.addStateStore(store(WINDOWS_STORE));
    builder.addStateStore(store(CLOSE_STORE));
    // Stream time is stored whenever a window opens or closes: the cache folds those writes into
    // at most one changelog record per key and commit.
    builder.addStateStore(store(STREAM_TIME_STORE).withCachingEnabled());
    contributions
        .process(
            () ->
                new WindowProcessor(
                    config,
                    spans,
                    metrics,
                    new SpanFlush(flush, config.exportFlushTimeoutMs(), metrics::exportWaiting),
                    exportRoom),
            Named.as("correlator-window"),
            LOG_STORE,
            WINDOWS_STORE,
            CLOSE_STORE,
            STREAM_TIME_STORE)
        .to(
            config.outputTopic(),
            Produced.with(Serdes.String(), AvroSerde.of(WindowResult.class))
                .withName("correlator-output"));
    return builder.build();
  }

  private static StoreBuilder<KeyValueStore<Bytes, byte[]>> store(String name) {
    return Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(name), Serdes.Bytes(), Serdes.ByteArray());
  }

  private static Attributes commonAttributes(CorrelatorConfig config) {
    AttributesBuilder attributes =
        Attributes.builder()
            .put("messaging.system", "kafka")
            .put("messaging.operation.type", "process")
            .put("messaging.operation.name", "aggregate")
            .put("messaging.consumer.group.name", config.applicationId());
    if (config.inputTopics().size() == 1) {
      attributes.put("messaging.destination.name", config.inputTopics().get(0));
    }
    return attributes.build();
  }
}
