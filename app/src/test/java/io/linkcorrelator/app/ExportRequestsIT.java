package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedRequest;
import io.linkcorrelator.streams.DroppedSpans;
import io.linkcorrelator.streams.ExportQueue;
import io.linkcorrelator.streams.WindowSpec;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How the application's OpenTelemetry sends the spans of one flush to a real OTLP receiver: one
 * batch of the batch span processor (not batches of 512 one after the other), sent as requests
 * bounded by their spans and links.
 */
class ExportRequestsIT {

  private static final int SPANS = 1_000;
  private static final int LINKS = 10;

  private static CorrelatorConfig config() {
    return CorrelatorConfig.builder()
        .applicationId("app")
        .inputTopics("in")
        .outputTopic("out")
        .window(WindowSpec.tumbling(Duration.ofMinutes(1), Duration.ZERO))
        .build();
  }

  @Test
  void theSpansOfOneFlushAreOneBatchSentAsRequestsBoundedByTheirLinks() {
    List<Integer> requests = flushed(Map.of());
    int perRequest = LinkBoundedRequests.WEIGHT_PER_REQUEST / (1 + LINKS);
    assertThat(requests)
        .as(
            "one batch of %d spans of %d links, in requests of at most %d spans and links",
            SPANS, LINKS, LinkBoundedRequests.WEIGHT_PER_REQUEST)
        .containsExactlyInAnyOrder(perRequest, SPANS - perRequest);
  }

  @Test
  void anExportBatchSizeTheOperatorSetIsKept() {
    List<Integer> requests = flushed(Map.of("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "300"));
    assertThat(requests).containsExactlyInAnyOrder(300, 300, 300, 100);
  }

  @Test
  void theExportersConnectionIsOpenedAtStartWithARequestOfNoSpan() throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      Map<String, String> env =
          Map.of(
              "OTEL_EXPORTER_OTLP_ENDPOINT",
              receiver.httpEndpoint(),
              "OTEL_EXPORTER_OTLP_PROTOCOL",
              OtlpReceiver.HTTP,
              "OTEL_METRICS_EXPORTER",
              "none");
      try (OpenTelemetrySdk sdk =
          CorrelatorApp.openTelemetry(
              config(), env, new DroppedSpans(), new ExportQueue(new DroppedSpans()))) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (receiver.traceRequests().isEmpty() && System.nanoTime() < deadline) {
          Thread.sleep(10); // the request is sent without waiting for it
        }
        assertThat(receiver.traceRequests())
            .singleElement()
            .extracting(ReceivedRequest::spans)
            .isEqualTo(0);
        assertThat(receiver.spans()).isEmpty();
      }
    }
  }

  /** Ends {@link #SPANS} spans, flushes, and returns the spans of each request received. */
  private static List<Integer> flushed(Map<String, String> settings) {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      Map<String, String> env = new HashMap<>(settings);
      env.put("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.httpEndpoint());
      env.put("OTEL_EXPORTER_OTLP_PROTOCOL", OtlpReceiver.HTTP);
      env.put("OTEL_METRICS_EXPORTER", "none");
      env.put("OTEL_BSP_SCHEDULE_DELAY", "600000"); // only the flush exports
      try (OpenTelemetrySdk sdk =
          CorrelatorApp.openTelemetry(
              config(), env, new DroppedSpans(), new ExportQueue(new DroppedSpans()))) {
        Tracer tracer = sdk.getTracer("test");
        for (int s = 0; s < SPANS; s++) {
          SpanBuilder span = tracer.spanBuilder("aggregate").setNoParent();
          for (int l = 0; l < LINKS; l++) {
            span.addLink(
                SpanContext.create(
                    String.format("%032x", s * LINKS + l + 1L),
                    String.format("%016x", l + 1L),
                    TraceFlags.getSampled(),
                    TraceState.getDefault()));
          }
          span.startSpan().end();
        }
        assertThat(sdk.getSdkTracerProvider().forceFlush().join(60, TimeUnit.SECONDS).isSuccess())
            .isTrue();
      }
      return receiver.traceRequests().stream()
          .map(ReceivedRequest::spans)
          .filter(spans -> spans > 0) // the request opening the connection at start
          .toList();
    }
  }
}
