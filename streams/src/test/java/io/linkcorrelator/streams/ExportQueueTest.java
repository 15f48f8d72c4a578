package io.linkcorrelator.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ExportQueueTest {

  private static final int QUEUE = 8;
  private static final int SPANS = 100;

  private final Backend backend = new Backend();
  private final DroppedSpans dropped = new DroppedSpans();
  private final ExportQueue exportQueue = new ExportQueue(dropped);

  @Test
  void spansBeyondAFullQueueWaitForExportsInsteadOfBeingDropped() {
    try (SdkTracerProvider provider = provider(true)) {
      endSpans(provider.get("test"));

      assertThat(exportQueue.hasRoom()).as("no room while the backend holds the exports").isFalse();
      backend.answer(true);

      assertThat(provider.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
      assertThat(backend.received()).as("every span exported once").hasSize(SPANS);
      assertThat(exportQueue.hasRoom()).isTrue();
      assertThat(dropped.total()).isZero();
    }
  }

  @Test
  void withoutTheGateTheSameBurstLosesSpans() {
    try (SdkTracerProvider provider = provider(false)) {
      endSpans(provider.get("test"));
      backend.answer(true);

      provider.forceFlush().join(10, TimeUnit.SECONDS);
      assertThat(backend.received())
          .as("the batch processor drops what its queue cannot hold")
          .hasSizeLessThanOrEqualTo(QUEUE + QUEUE / 2);
    }
  }

  @Test
  void failedExportsMakeRoomTooAndTheirSpansAreCountedAsDropped() {
    try (SdkTracerProvider provider = provider(true)) {
      endSpans(provider.get("test"));
      backend.answer(false);

      provider.forceFlush().join(10, TimeUnit.SECONDS);
      assertThat(backend.received()).as("every span went through an export").hasSize(SPANS);
      assertThat(dropped.total()).isEqualTo(SPANS);
      assertThat(exportQueue.hasRoom()).isTrue();
    }
  }

  @Test
  void spansStillWaitingAtShutdownAreCountedAsDropped() {
    SdkTracerProvider provider = provider(true);
    endSpans(provider.get("test"));

    provider.shutdown().join(10, TimeUnit.SECONDS); // the backend never answers

    assertThat(dropped.total()).isEqualTo(SPANS - QUEUE);
    backend.answer(true);
  }

  @Test
  void aFlushAskedForAsThePreviousFlushEndsStillExportsItsSpansAtOnce() {
    // The window step builds its next piece the moment the previous piece's export completes,
    // while the batch processor is still ending that flush; its spans must not wait for the batch
    // processor's schedule (an hour here).
    backend.answer(true);
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .addSpanProcessor(
                exportQueue.gated(
                    BatchSpanProcessor.builder(exportQueue.tracking(backend))
                        .setMaxQueueSize(QUEUE)
                        .setScheduleDelay(Duration.ofHours(1))
                        .build(),
                    QUEUE))
            .build();
    Tracer tracer = provider.get("test");
    tracer.spanBuilder("first piece").startSpan().end();
    CompletableResultCode nextFlush = new CompletableResultCode();
    provider
        .forceFlush()
        .whenComplete( // on the export's completion, inside the batch processor's flush
            () -> {
              tracer.spanBuilder("next piece").startSpan().end();
              provider.forceFlush().whenComplete(nextFlush::succeed);
            });

    assertThat(nextFlush.join(5, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(backend.received()).hasSize(2);
    provider.shutdown().join(5, TimeUnit.SECONDS);
  }

  @Test
  void withoutABatchProcessorThereIsAlwaysRoom() {
    SpanProcessor simple = exportQueue.gated(SpanProcessor.composite(), QUEUE);

    assertThat(simple).isNotInstanceOf(BatchSpanProcessor.class);
    assertThat(exportQueue.hasRoom()).isTrue();
  }

  private SdkTracerProvider provider(boolean gated) {
    SpanExporter exporter = gated ? exportQueue.tracking(backend) : backend;
    SpanProcessor batch =
        BatchSpanProcessor.builder(exporter)
            .setMaxQueueSize(QUEUE)
            .setMaxExportBatchSize(QUEUE / 2)
            .setExporterTimeout(Duration.ofMillis(200))
            .build();
    return SdkTracerProvider.builder()
        .addSpanProcessor(gated ? exportQueue.gated(batch, QUEUE) : batch)
        .build();
  }

  private static void endSpans(Tracer tracer) {
    for (int i = 0; i < SPANS; i++) {
      tracer.spanBuilder("span-" + i).startSpan().end();
    }
  }

  /** A backend that holds every export until told how to answer, then answers at once. */
  private static final class Backend implements SpanExporter {

    private final List<SpanData> received = new ArrayList<>();
    private final List<CompletableResultCode> held = new ArrayList<>();
    private Boolean answer;

    @Override
    public synchronized CompletableResultCode export(Collection<SpanData> spans) {
      received.addAll(spans);
      if (answer != null) {
        return answer ? CompletableResultCode.ofSuccess() : CompletableResultCode.ofFailure();
      }
      CompletableResultCode result = new CompletableResultCode();
      held.add(result);
      return result;
    }

    void answer(boolean success) {
      List<CompletableResultCode> answered;
      synchronized (this) {
        answer = success;
        answered = new ArrayList<>(held);
        held.clear();
      }
      answered.forEach(
          result -> {
            if (success) {
              result.succeed();
            } else {
              result.fail();
            }
          });
    }

    synchronized Set<String> received() {
      Set<String> ids = new HashSet<>();
      received.forEach(span -> ids.add(span.getSpanId()));
      return ids;
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
