package io.linkcorrelator.app;

import static io.linkcorrelator.app.CorrelatorHarness.T0;
import static io.linkcorrelator.app.CorrelatorHarness.headers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.linkcorrelator.streams.WindowSpec;
import io.linkcorrelator.streams.propagation.KafkaHeadersSetter;
import io.linkcorrelator.streams.propagation.Sampling;
import io.linkcorrelator.streams.propagation.TraceContext;
import io.linkcorrelator.streams.propagation.TraceContextExtractor;
import io.linkcorrelator.streams.propagation.TraceFormats;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceFormatsTest {

  private static final TraceContextExtractor DEFAULT =
      TraceFormats.extractor(TraceFormats.DEFAULT_EXTRACT_ORDER);

  @TempDir Path stateDir;

  @Test
  void oneWindowLinksAMessageFromEveryTracerToItsProducerSpan() {
    CorrelatorConfig config =
        CorrelatorConfig.builder()
            .applicationId("tracers")
            .inputTopics("events")
            .outputTopic("results")
            .window(WindowSpec.tumbling(Duration.ofMinutes(1), Duration.ZERO))
            .build();
    // Headers as each tracer writes them on a Kafka record.
    Map<String, Headers> tracers =
        Map.of(
            "opentelemetry",
            headers("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            "dd-trace-java",
            headers(
                "x-datadog-trace-id", "7277407061855694839",
                "x-datadog-parent-id", "5678",
                "x-datadog-sampling-priority", "1",
                "x-datadog-tags", "_dd.p.tid=640cfd8d00000000,_dd.p.dm=-1"),
            "brave-b3-single",
            headers("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"),
            "zipkin-b3-multi",
            headers(
                "X-B3-TraceId", "463ac35c9f6413ad48485a3953bb6124",
                "X-B3-SpanId", "a2fb4a1d1a96d312",
                "X-B3-Sampled", "1"),
            "jaeger",
            headers("uber-trace-id", "000000000000004d0000000000000016:0000000000017c29:0:5"));
    Map<String, String> expected =
        Map.of(
            "opentelemetry", "4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7",
            "dd-trace-java", "640cfd8d0000000064fe8b2a57d3eff7/000000000000162e",
            "brave-b3-single", "80f198ee56343ba864fe8b2a57d3eff7/e457b5a2e4d86bd1",
            "zipkin-b3-multi", "463ac35c9f6413ad48485a3953bb6124/a2fb4a1d1a96d312",
            "jaeger", "000000000000004d0000000000000016/0000000000017c29");
    try (CorrelatorHarness harness = new CorrelatorHarness(config, stateDir)) {
      tracers.forEach((tracer, headers) -> harness.send(tracer, T0 + 1, headers));
      harness.send("end", T0 + 120_000, headers());

      Map<String, String> linked =
          harness.spans().stream()
              .flatMap(span -> span.getLinks().stream())
              .collect(
                  Collectors.toMap(
                      link ->
                          link.getSpanContext().getTraceId()
                              + "/"
                              + link.getSpanContext().getSpanId(),
                      link -> link.getSpanContext().getTraceId()));
      assertThat(linked.keySet()).containsExactlyInAnyOrderElementsOf(expected.values());
      assertThat(harness.results())
          .filteredOn(r -> !r.key().equals("end"))
          .allSatisfy(r -> assertThat(r.value().getLinkedCount()).isEqualTo(1));
    }
  }

  @Test
  void aSecondContextWithAnotherTraceIdIsLinkedAsATerminatedContext() {
    CorrelatorConfig config =
        CorrelatorConfig.builder()
            .applicationId("terminated")
            .inputTopics("events")
            .outputTopic("results")
            .window(WindowSpec.tumbling(Duration.ofMinutes(1), Duration.ZERO))
            .build();
    try (CorrelatorHarness harness = new CorrelatorHarness(config, stateDir)) {
      harness.send(
          "k",
          T0 + 1,
          headers(
              "traceparent", "00-1111aaaa2222bbbb3333cccc4444dddd-5555eeee6666ffff-01",
              "x-datadog-trace-id", "123",
              "x-datadog-parent-id", "456"));
      harness.send("k", T0 + 120_000, headers());

      SpanData aggregate = harness.aggregateSpans().get(0);
      assertThat(aggregate.getLinks()).hasSize(2);
      LinkData primary = aggregate.getLinks().get(0);
      LinkData terminated = aggregate.getLinks().get(1);
      assertThat(primary.getSpanContext().getTraceId())
          .isEqualTo("1111aaaa2222bbbb3333cccc4444dddd");
      assertThat(primary.getAttributes().get(AttributeKey.stringKey("reason"))).isNull();
      assertThat(terminated.getSpanContext().getTraceId())
          .isEqualTo("0000000000000000000000000000007b");
      assertThat(terminated.getSpanContext().getSpanId()).isEqualTo("00000000000001c8");
      assertThat(terminated.getAttributes().get(AttributeKey.stringKey("reason")))
          .isEqualTo("terminated_context");
      assertThat(terminated.getAttributes().get(AttributeKey.stringKey("context_headers")))
          .isEqualTo("datadog");
      assertThat(terminated.getAttributes().get(AttributeKey.longKey("messaging.kafka.offset")))
          .isEqualTo(0L);
      assertThat(harness.results().get(0).value().getLinkedCount()).isEqualTo(1);
    }
  }

  @Test
  void headerNamesMatchInAnyCaseTheLastRepeatWinsAndValuesAreTrimmed() {
    RecordHeaders headers = new RecordHeaders();
    headers.add("TraceParent", bytes("00-00000000000000000000000000000001-0000000000000001-01"));
    headers.add(
        "traceparent", bytes(" \t00-00000000000000000000000000000002-0000000000000002-00\t "));

    TraceContext context = DEFAULT.extract(headers).get(0);

    assertThat(context.ids().traceIdHex()).isEqualTo("00000000000000000000000000000002");
    assertThat(context.sampling()).isEqualTo(Sampling.NOT_SAMPLED);
  }

  @Test
  void aTracestateLongerThanW3cAllowsIsDroppedButTheContextKept() {
    RecordHeaders headers = new RecordHeaders();
    headers.add("traceparent", bytes("00-00000000000000000000000000000001-0000000000000001-01"));
    headers.add("tracestate", bytes("k=" + "v".repeat(1024 * 1024)));

    TraceContext context = DEFAULT.extract(headers).get(0);

    assertThat(context.ids().spanIdHex()).isEqualTo("0000000000000001");
    assertThat(context.traceState()).isEmpty();
  }

  @Test
  void neverThrowsOnAnyHeaderBytes() {
    Random random = new Random(42);
    List<String> names =
        List.of(
            "traceparent",
            "tracestate",
            "x-datadog-trace-id",
            "x-datadog-parent-id",
            "x-datadog-sampling-priority",
            "x-datadog-tags",
            "b3",
            "X-B3-TraceId",
            "X-B3-SpanId",
            "X-B3-Sampled",
            "X-B3-Flags",
            "uber-trace-id");
    String alphabet = "0123456789abcdefABCDEF-:%=,; \t_.xyz\u00e9";
    for (int i = 0; i < 20_000; i++) {
      RecordHeaders headers = new RecordHeaders();
      for (String name : names) {
        if (random.nextInt(3) == 0) {
          continue;
        }
        byte[] value;
        if (random.nextBoolean()) {
          value = new byte[random.nextInt(60)];
          random.nextBytes(value);
        } else {
          StringBuilder text = new StringBuilder();
          for (int c = random.nextInt(70); c > 0; c--) {
            text.append(alphabet.charAt(random.nextInt(alphabet.length())));
          }
          value = bytes(text.toString());
        }
        headers.add(
            random.nextBoolean() ? name : name.toUpperCase(),
            random.nextInt(20) == 0 ? null : value);
      }
      List<TraceContext> contexts = DEFAULT.extract(headers);
      assertThat(contexts).allSatisfy(context -> assertThat(context.ids().isValid()).isTrue());
    }
  }

  @Test
  void injectsEachStyleSoThatItsOwnReaderGetsTheSameContextBack() {
    SpanContext span =
        SpanContext.create(
            "640cfd8d0000000064fe8b2a57d3eff7",
            "00f067aa0ba902b7",
            TraceFlags.getSampled(),
            TraceState.getDefault());
    for (String style : List.of("tracecontext", "datadog", "b3", "b3multi", "jaeger")) {
      RecordHeaders headers = new RecordHeaders();
      TraceFormats.injector(style)
          .inject(Context.root().with(Span.wrap(span)), headers, KafkaHeadersSetter.INSTANCE);

      String readAs = style.equals("b3multi") ? "b3" : style;
      List<TraceContext> read = TraceFormats.extractor(readAs).extract(headers);

      assertThat(read).as(style).hasSize(1);
      assertThat(read.get(0).ids().traceIdHex()).as(style).isEqualTo(span.getTraceId());
      assertThat(read.get(0).ids().spanIdHex()).as(style).isEqualTo(span.getSpanId());
      assertThat(read.get(0).sampling()).as(style).isEqualTo(Sampling.SAMPLED);
    }
  }

  @Test
  void datadogInjectionWritesWhatDdTraceWrites() {
    SpanContext span =
        SpanContext.create(
            "640cfd8d0000000064fe8b2a57d3eff7",
            "000000000000162e",
            TraceFlags.getDefault(),
            TraceState.getDefault());
    RecordHeaders headers = new RecordHeaders();
    TextMapPropagator both = TraceFormats.injector("tracecontext,datadog");
    both.inject(Context.root().with(Span.wrap(span)), headers, KafkaHeadersSetter.INSTANCE);

    assertThat(text(headers, "x-datadog-trace-id")).isEqualTo("7277407061855694839");
    assertThat(text(headers, "x-datadog-parent-id")).isEqualTo("5678");
    assertThat(text(headers, "x-datadog-sampling-priority")).isEqualTo("0");
    assertThat(text(headers, "x-datadog-tags")).isEqualTo("_dd.p.tid=640cfd8d00000000");
    assertThat(text(headers, "traceparent"))
        .isEqualTo("00-640cfd8d0000000064fe8b2a57d3eff7-000000000000162e-00");
  }

  @Test
  void unknownFormatNamesFailNamingTheKeyAndTheAcceptedValues() {
    assertThatThrownBy(() -> TraceFormats.extractor("tracecontext,zipkin"))
        .hasMessageContaining(
            "correlator.trace.extract must be a comma-separated list of tracecontext, datadog, b3, jaeger");
    assertThatThrownBy(() -> TraceFormats.injector("datadg"))
        .hasMessageContaining("correlator.trace.inject")
        .hasMessageContaining("b3multi");
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(Headers headers, String name) {
    return new String(headers.lastHeader(name).value(), StandardCharsets.UTF_8);
  }
}
