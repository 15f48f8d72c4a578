package io.linkcorrelator.streams.propagation;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.extension.trace.propagation.B3Propagator;
import java.util.Collection;

/**
 * Zipkin B3 (P5), the single {@code b3} header first, then {@code X-B3-*}: a trace id of 16 or 32
 * hex characters (16 is left-padded), a span id of 16; anything else or an all-zero id is invalid.
 * The single header is {@code trace-span[-sampling[-parent]]} with sampling {@code 0}, {@code 1} or
 * {@code d}; {@code d} or {@code X-B3-Flags: 1} means sampled; {@code X-B3-Sampled} takes {@code
 * 1}/{@code 0}/{@code true}/{@code false}. A sampling-only or invalid single header falls back to
 * the multi headers. Injection is OpenTelemetry's B3 propagator (single or multi header).
 */
final class B3Format extends HeaderFormat {

  static final B3Format SINGLE = new B3Format("b3", B3Propagator.injectingSingleHeader());
  static final B3Format MULTI = new B3Format("b3multi", B3Propagator.injectingMultiHeaders());

  private final B3Propagator injector;

  private B3Format(String name, B3Propagator injector) {
    super(name);
    this.injector = injector;
  }

  @Override
  <C> TraceContext read(C carrier, TextMapGetter<C> getter) {
    String single = getter.get(carrier, "b3");
    if (single != null) {
      TraceContext context = readSingle(single);
      if (context != null) {
        return context;
      }
    }
    return readMulti(carrier, getter);
  }

  private TraceContext readSingle(String value) {
    String[] fields = value.split("-", -1);
    if (fields.length < 2 || fields.length > 4) {
      return null; // sampling-only ("0", "1", "d") or malformed: no context here
    }
    Sampling sampling = Sampling.UNKNOWN;
    if (fields.length >= 3) {
      switch (fields[2]) {
        case "1", "d" -> sampling = Sampling.SAMPLED;
        case "0" -> sampling = Sampling.NOT_SAMPLED;
        default -> {
          return null;
        }
      }
    }
    if (fields.length == 4 && !(fields[3].length() == 16 && isHex(fields[3]))) {
      return null;
    }
    return ids(fields[0], fields[1], sampling);
  }

  private <C> TraceContext readMulti(C carrier, TextMapGetter<C> getter) {
    String traceId = getter.get(carrier, "X-B3-TraceId");
    String spanId = getter.get(carrier, "X-B3-SpanId");
    if (traceId == null || spanId == null) {
      return null;
    }
    Sampling sampling;
    String sampled = getter.get(carrier, "X-B3-Sampled");
    if ("1".equals(getter.get(carrier, "X-B3-Flags"))) {
      sampling = Sampling.SAMPLED;
    } else if ("1".equals(sampled) || "true".equalsIgnoreCase(sampled)) {
      sampling = Sampling.SAMPLED;
    } else if ("0".equals(sampled) || "false".equalsIgnoreCase(sampled)) {
      sampling = Sampling.NOT_SAMPLED;
    } else {
      sampling = Sampling.UNKNOWN;
    }
    return ids(traceId, spanId, sampling);
  }

  private TraceContext ids(String traceId, String spanId, Sampling sampling) {
    if ((traceId.length() != 16 && traceId.length() != 32) || !isHex(traceId)) {
      return null;
    }
    if (spanId.length() != 16 || !isHex(spanId)) {
      return null;
    }
    return context(high(traceId), low(traceId), hexToLong(spanId), flags(sampling), "", sampling);
  }

  @Override
  public Collection<String> fields() {
    return injector.fields();
  }

  @Override
  public <C> void inject(Context context, C carrier, TextMapSetter<C> setter) {
    injector.inject(context, carrier, setter);
  }
}
