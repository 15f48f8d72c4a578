package io.linkcorrelator.streams;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.test.TestRecord;

/**
 * A linked count by record key ({@link LinkedAggregations}, named {@value #NAME}) on
 * TopologyTestDriver with an in-memory OpenTelemetry SDK (deterministic ids, default span limits):
 * feed records with fixed timestamps to {@code events}, read each result's group key, spans and
 * counters.
 */
final class LinkedHarness implements AutoCloseable {

  static final long T0 = Instant.parse("2026-11-26T10:00:00Z").toEpochMilli();

  static final String NAME = "correlator";

  static final String LOG_STORE = NAME + "-contributors";

  static final String WINDOWS_STORE = NAME + "-windows";

  final InMemorySpanExporter spans = InMemorySpanExporter.create();
  final InMemoryMetricReader metrics = InMemoryMetricReader.create();
  final OpenTelemetrySdk openTelemetry;
  final TopologyTestDriver driver;
  final TestOutputTopic<String, Long> output;

  LinkedHarness(WindowSpec window, Path stateDir) {
    this(window, stateDir, () -> true);
  }

  /** With {@code exportRoom} standing in for the span processor's room ({@link ExportQueue}). */
  LinkedHarness(WindowSpec window, Path stateDir, BooleanSupplier exportRoom) {
    this(window, stateDir, exportRoom, new Properties());
  }

  /** With Kafka Streams settings of the test's own ({@code settings}, over the harness's). */
  LinkedHarness(WindowSpec window, Path stateDir, Properties settings) {
    this(window, stateDir, () -> true, settings);
  }

  private LinkedHarness(
      WindowSpec window, Path stateDir, BooleanSupplier exportRoom, Properties settings) {
    this.openTelemetry =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .setIdGenerator(DeterministicIds.idGenerator())
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(metrics).build())
            .build();
    StreamsBuilder builder = new StreamsBuilder();
    LinkedGroupedStream<String, byte[]> grouped =
        LinkedAggregations.with(openTelemetry)
            .withExportRoom(exportRoom)
            .groupByKey(
                builder.stream("events", Consumed.with(Serdes.String(), Serdes.ByteArray())),
                Grouped.with(Serdes.String(), Serdes.ByteArray()));
    windowed(grouped, window)
        .count(Named.as(NAME))
        .selectKey((windowed, count) -> windowed.key())
        .to("results", Produced.with(Serdes.String(), Serdes.Long()));
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "linked");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class.getName());
    props.putAll(settings);
    this.driver = new TopologyTestDriver(builder.build(), props);
    this.output =
        driver.createOutputTopic("results", new StringDeserializer(), new LongDeserializer());
  }

  private static LinkedWindowedStream<String, byte[]> windowed(
      LinkedGroupedStream<String, byte[]> grouped, WindowSpec window) {
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

  void send(String key, long timestamp, Headers headers) {
    driver
        .createInputTopic("events", new StringSerializer(), new ByteArraySerializer())
        .pipeInput(new TestRecord<>(key, "v".getBytes(StandardCharsets.UTF_8), headers, timestamp));
  }

  /** The results since the last call, keyed by group key. */
  List<TestRecord<String, Long>> results() {
    return output.readRecordsToList();
  }

  List<SpanData> aggregateSpans() {
    return spans.getFinishedSpanItems().stream()
        .filter(span -> !span.getParentSpanContext().isValid())
        .toList();
  }

  long counter(String name, String outcome) {
    long total = 0;
    for (MetricData metric : metrics.collectAllMetrics()) {
      if (!metric.getName().equals(name)) {
        continue;
      }
      for (LongPointData point : metric.getLongSumData().getPoints()) {
        String pointOutcome =
            point.getAttributes().get(AttributeKey.stringKey("correlator.outcome"));
        if (outcome == null || outcome.equals(pointOutcome)) {
          total += point.getValue();
        }
      }
    }
    return total;
  }

  /** W3C headers for a producer span numbered {@code n} (ids derived from n). */
  static Headers traced(int n) {
    RecordHeaders headers = new RecordHeaders();
    headers.add("traceparent", traceparent(n).getBytes(StandardCharsets.UTF_8));
    return headers;
  }

  static String traceId(int n) {
    return String.format("%032x", 0x1000_0000L + n);
  }

  static String spanId(int n) {
    return String.format("%016x", 0x2000_0000L + n);
  }

  static String traceparent(int n) {
    return "00-" + traceId(n) + "-" + spanId(n) + "-01";
  }

  @Override
  public void close() {
    driver.close();
    openTelemetry.close();
  }
}
