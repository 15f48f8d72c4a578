package io.linkcorrelator.app;

import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import io.linkcorrelator.streams.DeadLetterHandler;
import io.linkcorrelator.streams.DeterministicIds;
import io.linkcorrelator.streams.ExportQueue;
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
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * A correlator on TopologyTestDriver with an in-memory OpenTelemetry SDK (deterministic ids,
 * default span limits): feed records with fixed timestamps, read results, spans and counters.
 */
final class CorrelatorHarness implements AutoCloseable {

  static final long T0 = Instant.parse("2026-11-26T10:00:00Z").toEpochMilli();

  static final String DEAD_LETTERS = "dead-letters";

  final CorrelatorConfig config;
  final InMemorySpanExporter spans = InMemorySpanExporter.create();
  final InMemoryMetricReader metrics = InMemoryMetricReader.create();
  final OpenTelemetrySdk openTelemetry;
  final TopologyTestDriver driver;
  final TestOutputTopic<String, WindowResult> output;

  CorrelatorHarness(CorrelatorConfig config, Path stateDir) {
    this(config, stateDir, () -> true);
  }

  /** With {@code exportRoom} standing in for the span processor's room ({@link ExportQueue}). */
  CorrelatorHarness(CorrelatorConfig config, Path stateDir, BooleanSupplier exportRoom) {
    this.config = config;
    this.openTelemetry =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .setIdGenerator(DeterministicIds.idGenerator())
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(metrics).build())
            .build();
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    // As the application runs it: bad records are logged, dead-lettered, and skipped.
    props.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class.getName());
    props.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, DEAD_LETTERS);
    this.driver =
        new TopologyTestDriver(CorrelatorTopology.build(config, openTelemetry, exportRoom), props);
    this.output =
        driver.createOutputTopic(
            config.outputTopic(),
            new StringDeserializer(),
            AvroSerde.of(WindowResult.class).deserializer());
  }

  TestInputTopic<String, byte[]> input(String topic) {
    return driver.createInputTopic(topic, new StringSerializer(), new ByteArraySerializer());
  }

  /** Sends to the first input topic. */
  void send(String key, long timestamp, Headers headers) {
    send(
        config.inputTopics().get(0), key, "v".getBytes(StandardCharsets.UTF_8), timestamp, headers);
  }

  void send(String topic, String key, byte[] value, long timestamp, Headers headers) {
    input(topic).pipeInput(new TestRecord<>(key, value, headers, timestamp));
  }

  /**
   * Lets {@code correlator.partition.idle.ms} of wall-clock time pass: after a repartition, an
   * upstream partition that has stopped moving (and, on a first start, the wait for every upstream
   * partition to report) no longer holds the windows.
   */
  void letSilentPartitionsGoIdle() {
    driver.advanceWallClockTime(java.time.Duration.ofMillis(config.partitionIdleMs()));
  }

  List<TestRecord<String, WindowResult>> results() {
    return output.readRecordsToList();
  }

  List<SpanData> spans() {
    return spans.getFinishedSpanItems();
  }

  List<SpanData> aggregateSpans() {
    return spans().stream().filter(span -> span.getParentSpanContext().isValid() == false).toList();
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
    return headers("traceparent", traceparent(n));
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

  static Headers headers(String... keyValues) {
    RecordHeaders headers = new RecordHeaders();
    for (int i = 0; i < keyValues.length; i += 2) {
      headers.add(keyValues[i], keyValues[i + 1].getBytes(StandardCharsets.UTF_8));
    }
    return headers;
  }

  @Override
  public void close() {
    driver.close();
    openTelemetry.close();
  }
}
