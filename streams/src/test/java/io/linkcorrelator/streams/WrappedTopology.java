package io.linkcorrelator.streams;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanLimits;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * A DSL topology on TopologyTestDriver, with or without {@link LinkedProcessorWrapper}: input
 * records on {@code in} carry a W3C traceparent naming a producer span derived from their index,
 * results are read from {@code out}, spans from an in-memory exporter.
 */
final class WrappedTopology implements AutoCloseable {

  static final long T0 = 1_700_000_000_000L;

  final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final OpenTelemetrySdk sdk;
  private final TopologyTestDriver driver;
  private final TestInputTopic<String, String> in;
  private final TestOutputTopic<String, String> out;

  WrappedTopology(Path stateDir, boolean wrapped, Consumer<StreamsBuilder> dsl) {
    this(stateDir, wrapped, new Properties(), dsl);
  }

  WrappedTopology(Path stateDir, boolean wrapped, Properties extra, Consumer<StreamsBuilder> dsl) {
    sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .setIdGenerator(DeterministicIds.idGenerator())
                    .setSpanLimits(SpanLimits.builder().setMaxNumberOfLinks(10_000).build())
                    .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                    .build())
            .build();
    driver =
        new TopologyTestDriver(
            build(stateDir, wrapped, extra, dsl), properties(stateDir, wrapped, extra));
    in = driver.createInputTopic("in", new StringSerializer(), new StringSerializer());
    out = driver.createOutputTopic("out", new StringDeserializer(), new StringDeserializer());
  }

  private Properties properties(Path stateDir, boolean wrapped, Properties extra) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "wrapped-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class.getName());
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class.getName());
    if (wrapped) {
      props.put(
          StreamsConfig.PROCESSOR_WRAPPER_CLASS_CONFIG, LinkedProcessorWrapper.class.getName());
      props.put(LinkedProcessorWrapper.OPEN_TELEMETRY_CONFIG, sdk);
    }
    props.putAll(extra);
    return props;
  }

  /** The topology as a user builds it: the StreamsBuilder gets the configuration. */
  org.apache.kafka.streams.Topology build(
      Path stateDir, boolean wrapped, Properties extra, Consumer<StreamsBuilder> dsl) {
    StreamsBuilder builder =
        new StreamsBuilder(
            new TopologyConfig(new StreamsConfig(properties(stateDir, wrapped, extra))));
    dsl.accept(builder);
    return builder.build();
  }

  /** Sends record {@code index} with a traceparent naming {@link #producerSpan(int)}. */
  void send(String key, long time, int index) {
    send(key, time, "v" + index, traceparent(index));
  }

  void send(String key, long time, String value, Headers headers) {
    in.pipeInput(new TestRecord<>(key, value, headers, time));
  }

  static Headers traceparent(int index) {
    SpanContext span = producerSpan(index);
    Headers headers = new RecordHeaders();
    headers.add(
        "traceparent",
        ("00-" + span.getTraceId() + "-" + span.getSpanId() + "-01")
            .getBytes(StandardCharsets.UTF_8));
    return headers;
  }

  /** The producer span of record {@code index}: a trace and span id of its own. */
  static SpanContext producerSpan(int index) {
    String hex = HexFormat.of().toHexDigits((long) index + 1);
    return SpanContext.createFromRemoteParent(
        "0000000000000000" + hex, hex, TraceFlags.getSampled(), TraceState.getDefault());
  }

  static int indexOf(LinkData link) {
    return (int) (Long.parseUnsignedLong(link.getSpanContext().getSpanId(), 16) - 1);
  }

  List<TestRecord<String, String>> results() {
    return out.readRecordsToList();
  }

  List<SpanData> spans() {
    return exporter.getFinishedSpanItems();
  }

  /**
   * The span named by a result's traceparent, and the record indexes linked by it and its chunks.
   */
  Set<Integer> linkedBy(TestRecord<String, String> result) {
    String traceparent = header(result.headers(), "traceparent");
    String traceId = traceparent.split("-")[1];
    return spans().stream()
        .filter(span -> span.getTraceId().equals(traceId))
        .flatMap(span -> span.getLinks().stream())
        .map(WrappedTopology::indexOf)
        .collect(Collectors.toSet());
  }

  SpanData aggregateOf(TestRecord<String, String> result) {
    String spanId = header(result.headers(), "traceparent").split("-")[2];
    return spans().stream()
        .filter(span -> span.getSpanId().equals(spanId))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no span " + spanId + " for " + result));
  }

  static String header(Headers headers, String name) {
    Header header = headers.lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  static List<String> withoutHeaders(List<TestRecord<String, String>> records) {
    List<String> plain = new ArrayList<>();
    records.forEach(r -> plain.add(r.key() + "=" + r.value() + "@" + r.timestamp()));
    return plain;
  }

  @Override
  public void close() {
    driver.close();
    sdk.close();
  }
}
