package io.linkcorrelator.app;

import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import io.linkcorrelator.streams.DeadLetterHandler;
import io.linkcorrelator.streams.DeterministicIds;
import io.linkcorrelator.streams.ExportQueue;
import io.linkcorrelator.streams.LinkedAggregations;
import io.linkcorrelator.streams.LinkedGroupedStream;
import io.linkcorrelator.streams.LinkedWindowedStream;
import io.linkcorrelator.streams.WindowSpec;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.TimeWindows;

/**
 * Builds the correlator's Kafka Streams {@link Topology}: a pure function of the configuration and
 * the injected {@link OpenTelemetry}, which supplies the tracer for the aggregate spans and the
 * meter for the counters. The application is one user of the library API ({@link
 * LinkedAggregations}):
 *
 * <pre>
 * input topics ─► observe (ConfiguredCapture: value format, group key, FieldValue; bad values
 *   dead-lettered) ─► LinkedAggregations.groupByKey / groupBy ("correlator-regroup")
 *   ─► windowedBy(configured windows) ─► aggregate(WindowSummary, "correlator")
 *   ─► result (ResultMapping: WindowResult, ids from the aggregate context in the headers)
 *   ─► output topic (WindowResult + traceparent)
 * </pre>
 *
 * <p>When {@code openTelemetry} is the SDK, a window's result is written only once its spans are
 * exported (bounded by {@link CorrelatorConfig#exportFlushTimeoutMs()}), so a crash cannot lose the
 * spans of a result that survives. Exporters are not built here: the caller's OpenTelemetry decides
 * where spans go. Its tracer provider should use {@link DeterministicIds#idGenerator()} and allow
 * at least {@link CorrelatorConfig#maxLinksPerSpan()} links per span. As for every linked
 * aggregation, Kafka Streams' {@code processing.exception.handler} must be one that goes on (the
 * application sets {@link DeadLetterHandler}): bad and late records are raised to it.
 */
public final class CorrelatorTopology {

  /** The name of the linked aggregation: its processors, stores and spans derive from it. */
  static final String NAME = "correlator";

  /** The contributor log store: {@value}. */
  public static final String LOG_STORE = "correlator-contributors";

  /**
   * The window state store: {@value} (in memory, logged: the open windows, the correlator's own
   * stream time).
   */
  public static final String WINDOWS_STORE = "correlator-windows";

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
    LinkedAggregations linked =
        linkedAggregations(config, openTelemetry).withExportRoom(exportRoom);
    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, FieldValue> observed =
        builder.stream(
                config.inputTopics(),
                Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("correlator-input"))
            .process(
                () -> new ConfiguredCapture(config, openTelemetry), Named.as("correlator-observe"));
    LinkedGroupedStream<String, FieldValue> grouped =
        config.groupBy().repartitions()
            ? linked.groupBy(
                observed,
                (key, field) -> key,
                Grouped.with(REPARTITION, GroupKeySerde.INSTANCE, FieldValue.SERDE))
            : linked.groupByKey(observed, Grouped.with(GroupKeySerde.INSTANCE, FieldValue.SERDE));
    windowed(grouped, config.window())
        .aggregate(WindowSummary::new, WindowSummary.AGGREGATOR, Named.as(NAME))
        .process(() -> new ResultMapping(config), Named.as("correlator-result"))
        .to(
            config.outputTopic(),
            Produced.with(Serdes.String(), AvroSerde.of(WindowResult.class))
                .withName("correlator-output"));
    return builder.build();
  }

  /** The library's options as configured. */
  private static LinkedAggregations linkedAggregations(
      CorrelatorConfig config, OpenTelemetry openTelemetry) {
    AttributesBuilder attributes = Attributes.builder();
    if (config.inputTopics().size() == 1) {
      attributes.put("messaging.destination.name", config.inputTopics().get(0));
    }
    return LinkedAggregations.with(openTelemetry)
        .withMaxLinksPerSpan(config.maxLinksPerSpan())
        .withMaxLinksJsonChars(config.maxLinksJsonChars())
        .withExportFlushTimeout(Duration.ofMillis(config.exportFlushTimeoutMs()))
        .withPartitionIdle(Duration.ofMillis(config.partitionIdleMs()))
        .withWindowIdleClose(Duration.ofMillis(config.windowIdleCloseMs()))
        .withMaxFuture(Duration.ofMillis(config.maxFutureMs()))
        .withExtractor(config.extractor())
        .withInjector(config.injector())
        .withInputTopics(config.inputTopics())
        .withSpanName("aggregate " + String.join(",", config.inputTopics()))
        .withSpanAttributes(attributes.build());
  }

  /** The configured windows, as Kafka Streams' window definitions. */
  private static LinkedWindowedStream<String, FieldValue> windowed(
      LinkedGroupedStream<String, FieldValue> grouped, WindowSpec window) {
    Duration grace = Duration.ofMillis(window.graceMs());
    return switch (window.type()) {
      case TUMBLING, HOPPING ->
          grouped.windowedBy(
              TimeWindows.ofSizeAndGrace(Duration.ofMillis(window.sizeMs()), grace)
                  .advanceBy(Duration.ofMillis(window.advanceMs())));
      case SLIDING ->
          grouped.windowedBy(
              SlidingWindows.ofTimeDifferenceAndGrace(
                  Duration.ofMillis(window.sizeMs() - 1), grace));
      case SESSION ->
          grouped.windowedBy(
              SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(window.gapMs()), grace));
      default -> throw new IllegalArgumentException("window type " + window.type());
    };
  }
}
