package io.linkcorrelator.streams.propagation;

import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.Collection;

/**
 * W3C {@code traceparent}/{@code tracestate} (P3): hex in any case, written out lowercase; version
 * {@code ff} is invalid; version {@code 00} has exactly four fields, a higher version may have
 * more; all-zero ids are invalid; sampled is flags bit 0. A {@code tracestate} longer than W3C
 * allows is dropped. Injection is OpenTelemetry's.
 */
final class W3cFormat extends HeaderFormat {

  static final W3cFormat INSTANCE = new W3cFormat();

  /**
   * W3C caps tracestate at 32 members of at most 256 characters; a longer header is dropped (not
   * the context), so a hostile or broken one cannot bloat the state and the link budget.
   */
  static final int MAX_TRACESTATE = 32 * 257;

  private W3cFormat() {
    super("tracecontext");
  }

  @Override
  <C> TraceContext read(C carrier, TextMapGetter<C> getter) {
    String traceparent = getter.get(carrier, "traceparent");
    if (traceparent == null) {
      return null;
    }
    String[] fields = traceparent.split("-", -1);
    if (fields.length < 4) {
      return null;
    }
    String version = fields[0];
    if (version.length() != 2 || !isHex(version) || version.equalsIgnoreCase("ff")) {
      return null;
    }
    if (version.equals("00") && fields.length != 4) {
      return null;
    }
    String traceId = fields[1];
    String spanId = fields[2];
    String flags = fields[3];
    if (traceId.length() != 32 || !isHex(traceId) || spanId.length() != 16 || !isHex(spanId)) {
      return null;
    }
    if (flags.length() != 2 || !isHex(flags)) {
      return null;
    }
    byte flagBits = (byte) hexToLong(flags);
    String traceState = getter.get(carrier, "tracestate");
    return context(
        high(traceId),
        low(traceId),
        hexToLong(spanId),
        flagBits,
        traceState == null || traceState.length() > MAX_TRACESTATE ? "" : traceState,
        Sampling.of((flagBits & 1) != 0));
  }

  @Override
  public Collection<String> fields() {
    return W3CTraceContextPropagator.getInstance().fields();
  }

  @Override
  public <C> void inject(Context context, C carrier, TextMapSetter<C> setter) {
    W3CTraceContextPropagator.getInstance().inject(context, carrier, setter);
  }
}
