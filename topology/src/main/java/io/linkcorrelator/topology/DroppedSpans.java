package io.linkcorrelator.topology;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the spans that never reach the backend because their export failed for good (after the
 * exporter's own retries), as {@code correlator.spans.dropped{error.type=export_failed}}. Spans the
 * batch processor drops because its queue is full are the SDK's own {@code
 * otel.sdk.processor.span.processed{error.type=queue_full}}.
 */
final class DroppedSpans {

  private static final Attributes EXPORT_FAILED =
      Attributes.of(AttributeKey.stringKey("error.type"), "export_failed");

  private final LongAdder exportFailed = new LongAdder();

  /** The exporter, counting the spans of every export that does not succeed. */
  SpanExporter counting(SpanExporter exporter) {
    return new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        int count = spans.size();
        CompletableResultCode result = exporter.export(spans);
        result.whenComplete(
            () -> {
              if (!result.isSuccess()) {
                exportFailed.add(count);
              }
            });
        return result;
      }

      @Override
      public CompletableResultCode flush() {
        return exporter.flush();
      }

      @Override
      public CompletableResultCode shutdown() {
        return exporter.shutdown();
      }

      @Override
      public String toString() {
        return exporter.toString();
      }
    };
  }

  /** Reports the count (from 0, so the series exists before the first drop). */
  void register(Meter meter) {
    meter
        .counterBuilder("correlator.spans.dropped")
        .setDescription("Spans whose export failed after the exporter's retries")
        .setUnit("{span}")
        .buildWithCallback(counter -> counter.record(exportFailed.sum(), EXPORT_FAILED));
  }

  long exportFailed() {
    return exportFailed.sum();
  }
}
