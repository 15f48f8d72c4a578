package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.streams.DroppedSpans;
import io.linkcorrelator.streams.ExportQueue;
import io.linkcorrelator.streams.WindowSpec;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** How the application wires OpenTelemetry and stops. */
class CorrelatorAppTest {

  private static CorrelatorConfig config() {
    return CorrelatorConfig.builder()
        .applicationId("app")
        .inputTopics("in")
        .outputTopic("out")
        .window(WindowSpec.tumbling(Duration.ofMinutes(1), Duration.ZERO))
        .build();
  }

  @Test
  void aggregateSpansAreSampledWhateverSamplerTheEnvironmentSets() {
    for (String sampler :
        new String[] {"always_off", "traceidratio", "parentbased_always_off", "always_on"}) {
      try (OpenTelemetrySdk sdk =
          CorrelatorApp.openTelemetry(
              config(),
              Map.of(
                  "OTEL_TRACES_SAMPLER", sampler,
                  "OTEL_TRACES_SAMPLER_ARG", "0",
                  // An exporter, so that spans are recorded; never reached: no span ends.
                  "OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:9",
                  "OTEL_METRICS_EXPORTER", "none"),
              new DroppedSpans(),
              new ExportQueue(new DroppedSpans()))) {
        Span span = sdk.getTracer("test").spanBuilder("aggregate").setNoParent().startSpan();

        assertThat(span.isRecording()).as(sampler).isTrue();
        assertThat(span.getSpanContext().isSampled()).as(sampler).isTrue();
      }
    }
  }

  @Test
  void spansAreFlushedOnlyAfterKafkaStreamsStopped() {
    List<SpanData> exporter = new CopyOnWriteArrayList<>();
    OpenTelemetrySdk sdk = sdkExportingTo(exporter);
    sdk.getTracer("test").spanBuilder("emitted").startSpan().end();

    boolean flushed =
        CorrelatorApp.stop(
            () -> {
              assertThat(exporter).as("nothing flushed yet").isEmpty();
              return true;
            },
            sdk,
            Duration.ofSeconds(5));

    assertThat(flushed).isTrue();
    assertThat(exporter).hasSize(1);
  }

  @Test
  void whenKafkaStreamsDoesNotCloseInTimeOpenTelemetryIsNeitherFlushedNorClosed() {
    List<SpanData> exporter = new CopyOnWriteArrayList<>();
    OpenTelemetrySdk sdk = sdkExportingTo(exporter);

    boolean flushed = CorrelatorApp.stop(() -> false, sdk, Duration.ofSeconds(5));

    assertThat(flushed).isFalse();
    Span late = sdk.getTracer("test").spanBuilder("emitted after the timeout").startSpan();
    assertThat(late.isRecording()).as("a still-running thread's span is recorded").isTrue();
    late.end();
    sdk.getSdkTracerProvider().forceFlush().join(5, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(exporter).hasSize(1);
    sdk.close();
  }

  /** Batches spans until flushed, then keeps them (even after the exporter is shut down). */
  private static OpenTelemetrySdk sdkExportingTo(List<SpanData> exported) {
    SpanExporter exporter =
        new SpanExporter() {
          @Override
          public CompletableResultCode export(Collection<SpanData> spans) {
            exported.addAll(spans);
            return CompletableResultCode.ofSuccess();
          }

          @Override
          public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
          }

          @Override
          public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
          }
        };
    return OpenTelemetrySdk.builder()
        .setTracerProvider(
            SdkTracerProvider.builder()
                .addSpanProcessor(
                    BatchSpanProcessor.builder(exporter)
                        .setScheduleDelay(Duration.ofHours(1))
                        .build())
                .build())
        .build();
  }
}
