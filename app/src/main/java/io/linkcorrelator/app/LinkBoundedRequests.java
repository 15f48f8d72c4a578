package io.linkcorrelator.app;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Sends one batch of the batch span processor as requests of at most {@link #WEIGHT_PER_REQUEST}
 * spans and links, all at once, and completes when all of them have: the batch is one round trip to
 * the backend, however large, and no request outgrows what backends accept (gRPC's common 4 MiB
 * limit: a link is about 150 bytes on the wire). The application makes a batch as large as the
 * processor's queue ({@code otel.bsp.max.export.batch.size} defaults to {@code
 * otel.bsp.max.queue.size}), so that the export of one emission piece, which waits for the
 * processor's flush, is not a chain of requests each waiting for the one before. A span with more
 * links than that goes in a request of its own.
 */
final class LinkBoundedRequests implements SpanExporter {

  /** Spans plus links per request: about 1.3 MB of OTLP protobuf with the correlator's links. */
  static final int WEIGHT_PER_REQUEST = 8_192;

  private final SpanExporter exporter;

  /**
   * @param exporter sends one request per call, without waiting for it (the OTLP exporters do)
   */
  LinkBoundedRequests(SpanExporter exporter) {
    this.exporter = exporter;
  }

  @Override
  public CompletableResultCode export(Collection<SpanData> spans) {
    List<CompletableResultCode> requests = new ArrayList<>();
    List<SpanData> request = new ArrayList<>();
    int weight = 0;
    for (SpanData span : spans) {
      int spanWeight = 1 + span.getLinks().size();
      if (!request.isEmpty() && weight + spanWeight > WEIGHT_PER_REQUEST) {
        requests.add(exporter.export(request));
        request = new ArrayList<>();
        weight = 0;
      }
      request.add(span);
      weight += spanWeight;
    }
    if (requests.isEmpty()) {
      return exporter.export(spans); // one request: the batch as it is
    }
    requests.add(exporter.export(request));
    return CompletableResultCode.ofAll(requests);
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
}
