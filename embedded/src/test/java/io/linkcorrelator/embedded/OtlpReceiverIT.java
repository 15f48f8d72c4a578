package io.linkcorrelator.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanLimits;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The real OTLP exporters send to the receiver, and it shows exactly what they sent. */
class OtlpReceiverIT {

  enum Transport {
    HTTP_PROTOBUF,
    HTTP_PROTOBUF_GZIP,
    GRPC,
    GRPC_GZIP
  }

  private static final Duration WAIT = Duration.ofSeconds(20);

  private OtlpReceiver receiver;

  @BeforeEach
  void startReceiver() {
    receiver = OtlpReceiver.start();
  }

  @AfterEach
  void stopReceiver() {
    receiver.close();
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Transport.class)
  void showsASpanWithLinksExactlyAsTheExporterSentIt(Transport transport) {
    SpanContext first = context("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "dd=s:1");
    SpanContext second = context("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "");
    SpanContext third = context("ffffffffffffffffffffffffffffffff", "ffffffffffffffff", "");
    String traceId;
    String spanId;
    try (SdkTracerProvider provider = provider(exporter(transport), SpanLimits.getDefault())) {
      Tracer tracer = provider.get("otlp-receiver-it");
      Span span =
          tracer
              .spanBuilder("aggregate")
              .setSpanKind(SpanKind.CONSUMER)
              .setNoParent()
              .setAttribute("messaging.batch.message_count", 3L)
              .addLink(first, linkAttributes("orders", 0, 41))
              .addLink(second, linkAttributes("orders", 1, 7))
              .addLink(third, linkAttributes("payments", 2, 9_000_000_000L))
              .startSpan();
      traceId = span.getSpanContext().getTraceId();
      spanId = span.getSpanContext().getSpanId();
      span.end();
      assertThat(provider.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    }

    ReceivedSpan received = receiver.awaitSpans(1, WAIT).get(0);

    assertThat(received.transport())
        .isEqualTo(transport.name().startsWith("GRPC") ? OtlpReceiver.GRPC : OtlpReceiver.HTTP);
    assertThat(received.name()).isEqualTo("aggregate");
    assertThat(received.traceId()).isEqualTo(traceId);
    assertThat(received.spanId()).isEqualTo(spanId);
    assertThat(received.parentSpanId()).isEmpty();
    assertThat(received.span().getKind())
        .isEqualTo(io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_CONSUMER);
    assertThat(received.attributes()).containsEntry("messaging.batch.message_count", 3L);
    assertThat(received.resourceAttributes()).containsEntry("service.name", "receiver-it");
    assertThat(received.droppedLinksCount()).isZero();
    assertThat(received.links())
        .containsExactly(
            new ReceivedSpan.Link(
                "0af7651916cd43dd8448eb211c80319c",
                "b7ad6b7169203331",
                "dd=s:1",
                Map.of(
                    "messaging.destination.name", "orders",
                    "messaging.destination.partition.id", "0",
                    "messaging.kafka.offset", 41L)),
            new ReceivedSpan.Link(
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "00f067aa0ba902b7",
                "",
                Map.of(
                    "messaging.destination.name", "orders",
                    "messaging.destination.partition.id", "1",
                    "messaging.kafka.offset", 7L)),
            new ReceivedSpan.Link(
                "ffffffffffffffffffffffffffffffff",
                "ffffffffffffffff",
                "",
                Map.of(
                    "messaging.destination.name", "payments",
                    "messaging.destination.partition.id", "2",
                    "messaging.kafka.offset", 9_000_000_000L)));
    assertThat(receiver.spansLinkedTo("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"))
        .containsExactly(received);
    assertThat(receiver.spansOfTrace(traceId)).containsExactly(received);
    assertThat(receiver.spansNamed("aggregate")).containsExactly(received);
  }

  @Test
  void keepsTheDroppedLinksCountTheSdkReports() {
    SpanLimits twoLinks = SpanLimits.builder().setMaxNumberOfLinks(2).build();
    try (SdkTracerProvider provider = provider(exporter(Transport.GRPC), twoLinks)) {
      Span span = provider.get("it").spanBuilder("over-budget").setNoParent().startSpan();
      for (int i = 1; i <= 5; i++) {
        span.addLink(context(String.format("%032x", i), String.format("%016x", i), ""));
      }
      span.end();
      provider.forceFlush().join(10, TimeUnit.SECONDS);
    }

    ReceivedSpan received = receiver.awaitSpans(1, WAIT).get(0);

    assertThat(received.links()).hasSize(2);
    assertThat(received.droppedLinksCount()).isEqualTo(3);
  }

  @Test
  void aStoppedReceiverRefusesExportsAndTakesThemAgainOnTheSamePorts() {
    String httpEndpoint = receiver.httpEndpoint();
    String grpcEndpoint = receiver.grpcEndpoint();
    receiver.stop();

    assertThat(exportOneSpan(Transport.HTTP_PROTOBUF, "during-outage").isSuccess()).isFalse();
    assertThat(exportOneSpan(Transport.GRPC, "during-outage").isSuccess()).isFalse();

    receiver.restart();

    assertThat(receiver.httpEndpoint()).isEqualTo(httpEndpoint);
    assertThat(receiver.grpcEndpoint()).isEqualTo(grpcEndpoint);
    assertThat(exportOneSpan(Transport.HTTP_PROTOBUF, "after-http").isSuccess()).isTrue();
    assertThat(exportOneSpan(Transport.GRPC, "after-grpc").isSuccess()).isTrue();
    assertThat(receiver.awaitSpans(2, WAIT))
        .extracting(ReceivedSpan::name)
        .containsExactlyInAnyOrder("after-http", "after-grpc");
  }

  @Test
  void answersRequestsThatAreNotOtlpWithAClientError() throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    HttpResponse<String> garbage =
        client.send(
            HttpRequest.newBuilder(URI.create(receiver.httpTracesUrl()))
                .header("Content-Type", "application/x-protobuf")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {(byte) 0xff, 0x01, 0x02}))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> json =
        client.send(
            HttpRequest.newBuilder(URI.create(receiver.httpTracesUrl()))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(garbage.statusCode()).isEqualTo(400);
    assertThat(garbage.body()).contains("not an ExportTraceServiceRequest");
    assertThat(json.statusCode()).isEqualTo(415);
    assertThat(receiver.spans()).isEmpty();
  }

  private CompletableResultCode exportOneSpan(Transport transport, String name) {
    SpanExporter exporter = exporter(transport);
    try (SdkTracerProvider provider = provider(exporter, SpanLimits.getDefault())) {
      provider.get("it").spanBuilder(name).setNoParent().startSpan().end();
      return provider.forceFlush().join(15, TimeUnit.SECONDS);
    }
  }

  private SpanExporter exporter(Transport transport) {
    return switch (transport) {
      case HTTP_PROTOBUF -> httpExporter("none");
      case HTTP_PROTOBUF_GZIP -> httpExporter("gzip");
      case GRPC -> grpcExporter("none");
      case GRPC_GZIP -> grpcExporter("gzip");
    };
  }

  private SpanExporter httpExporter(String compression) {
    return OtlpHttpSpanExporter.builder()
        .setEndpoint(receiver.httpTracesUrl())
        .setCompression(compression)
        .setTimeout(Duration.ofSeconds(5))
        .build();
  }

  private SpanExporter grpcExporter(String compression) {
    return OtlpGrpcSpanExporter.builder()
        .setEndpoint(receiver.grpcEndpoint())
        .setCompression(compression)
        .setTimeout(Duration.ofSeconds(5))
        .build();
  }

  private static SdkTracerProvider provider(SpanExporter exporter, SpanLimits limits) {
    return SdkTracerProvider.builder()
        .setResource(
            Resource.getDefault()
                .merge(
                    Resource.create(
                        Attributes.of(AttributeKey.stringKey("service.name"), "receiver-it"))))
        .setSpanLimits(limits)
        .addSpanProcessor(SimpleSpanProcessor.create(exporter))
        .build();
  }

  private static SpanContext context(String traceId, String spanId, String traceState) {
    TraceState state =
        traceState.isEmpty()
            ? TraceState.getDefault()
            : TraceState.builder().put("dd", traceState.substring(3)).build();
    return SpanContext.createFromRemoteParent(traceId, spanId, TraceFlags.getSampled(), state);
  }

  private static Attributes linkAttributes(String topic, int partition, long offset) {
    return Attributes.builder()
        .put("messaging.destination.name", topic)
        .put("messaging.destination.partition.id", String.valueOf(partition))
        .put("messaging.kafka.offset", offset)
        .build();
  }

  @SuppressWarnings("unused")
  private static List<String> ids(List<ReceivedSpan> spans) {
    return spans.stream().map(ReceivedSpan::spanId).toList();
  }
}
