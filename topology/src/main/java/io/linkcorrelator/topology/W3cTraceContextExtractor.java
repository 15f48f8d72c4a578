package io.linkcorrelator.topology;

import io.linkcorrelator.serdes.CompactSpanContext;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import java.util.List;
import org.apache.kafka.common.header.Headers;

/**
 * W3C {@code traceparent}/{@code tracestate}, read through OpenTelemetry's {@link
 * W3CTraceContextPropagator}: what every OpenTelemetry SDK writes.
 */
final class W3cTraceContextExtractor implements TraceContextExtractor {

  static final W3cTraceContextExtractor INSTANCE = new W3cTraceContextExtractor();

  private W3cTraceContextExtractor() {}

  @Override
  public List<TraceContext> extract(Headers headers) {
    SpanContext context;
    try {
      context =
          Span.fromContext(
                  W3CTraceContextPropagator.getInstance()
                      .extract(Context.root(), headers, KafkaHeadersGetter.INSTANCE))
              .getSpanContext();
    } catch (RuntimeException e) {
      return List.of(); // never throw on header bytes: an unreadable context is no context
    }
    if (!context.isValid()) {
      return List.of();
    }
    return List.of(
        new TraceContext(
            CompactSpanContext.ofHex(
                context.getTraceId(), context.getSpanId(), context.getTraceFlags().asByte()),
            TraceStates.encode(context.getTraceState()),
            "tracecontext"));
  }
}
