package io.linkcorrelator.streams.propagation;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.extension.trace.propagation.JaegerPropagator;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collection;

/**
 * Jaeger's {@code uber-trace-id: trace:span:parent:flags} (P6): a trace id of 1–32 hex characters
 * and a span id of 1–16, left-padded, hex in any case; all-zero ids are invalid; a value without
 * {@code :} is URL-decoded first; exactly four fields; sampled is flags &amp; 1. Injection is
 * OpenTelemetry's Jaeger propagator.
 */
final class JaegerFormat extends HeaderFormat {

  static final JaegerFormat INSTANCE = new JaegerFormat();

  private JaegerFormat() {
    super("jaeger");
  }

  @Override
  <C> TraceContext read(C carrier, TextMapGetter<C> getter) {
    String value = getter.get(carrier, "uber-trace-id");
    if (value == null) {
      return null;
    }
    if (value.indexOf(':') < 0) {
      try {
        value = URLDecoder.decode(value, StandardCharsets.UTF_8);
      } catch (IllegalArgumentException malformed) {
        return null;
      }
    }
    String[] fields = value.split(":", -1);
    if (fields.length != 4) {
      return null;
    }
    String traceId = fields[0];
    String spanId = fields[1];
    String parentId = fields[2];
    String flags = fields[3];
    if (traceId.length() > 32 || !isHex(traceId) || spanId.length() > 16 || !isHex(spanId)) {
      return null;
    }
    if (parentId.length() > 16 || !isHex(parentId) || flags.length() > 2 || !isHex(flags)) {
      return null;
    }
    Sampling sampling = Sampling.of((hexToLong(flags) & 1) != 0);
    return context(high(traceId), low(traceId), hexToLong(spanId), flags(sampling), "", sampling);
  }

  @Override
  public Collection<String> fields() {
    return JaegerPropagator.getInstance().fields();
  }

  @Override
  public <C> void inject(Context context, C carrier, TextMapSetter<C> setter) {
    JaegerPropagator.getInstance().inject(context, carrier, setter);
  }
}
