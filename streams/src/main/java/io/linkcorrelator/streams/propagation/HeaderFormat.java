package io.linkcorrelator.streams.propagation;

import io.linkcorrelator.serdes.CompactSpanContext;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.HexFormat;

/**
 * One trace-context propagation format, read by the rules of {@code docs/trace-context-policy.md}
 * (P2–P6) and usable as an OpenTelemetry {@link TextMapPropagator}. {@link #read} never throws:
 * malformed values of any kind give no context.
 */
abstract class HeaderFormat implements TextMapPropagator {

  private final String name;

  HeaderFormat(String name) {
    this.name = name;
  }

  /** The format's name in {@code correlator.trace.extract} and {@code correlator.trace.inject}. */
  final String name() {
    return name;
  }

  /** The context these headers carry in this format, or null when there is no valid one. */
  abstract <C> TraceContext read(C carrier, TextMapGetter<C> getter);

  @Override
  public <C> Context extract(Context context, C carrier, TextMapGetter<C> getter) {
    TraceContext found;
    try {
      found = carrier == null ? null : read(carrier, getter);
    } catch (RuntimeException e) {
      found = null;
    }
    if (found == null) {
      return context;
    }
    return context.with(
        Span.wrap(
            SpanContext.createFromRemoteParent(
                found.ids().traceIdHex(),
                found.ids().spanIdHex(),
                TraceFlags.fromByte(found.ids().traceFlags()),
                TraceStates.decode(found.traceState()))));
  }

  @Override
  public String toString() {
    return name;
  }

  TraceContext context(
      long high, long low, long spanId, byte flags, String state, Sampling sampling) {
    if ((high == 0 && low == 0) || spanId == 0) {
      return null;
    }
    return new TraceContext(
        new CompactSpanContext(high, low, spanId, flags), state, name, sampling);
  }

  static byte flags(Sampling sampling) {
    return (byte) (sampling == Sampling.SAMPLED ? 1 : 0);
  }

  /** Whether every character of {@code text} is a hex digit, upper or lower case. */
  static boolean isHex(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (Character.digit(text.charAt(i), 16) < 0) {
        return false;
      }
    }
    return !text.isEmpty();
  }

  /** Up to 16 hex digits as a long; the caller checks {@link #isHex} and the length. */
  static long hexToLong(String hex) {
    return hex.isEmpty() ? 0 : HexFormat.fromHexDigitsToLong(hex);
  }

  /** The upper 64 bits of a hex trace id of up to 32 digits, left-padded. */
  static long high(String traceIdHex) {
    return traceIdHex.length() <= 16
        ? 0
        : hexToLong(traceIdHex.substring(0, traceIdHex.length() - 16));
  }

  /** The lower 64 bits of a hex trace id of up to 32 digits. */
  static long low(String traceIdHex) {
    return hexToLong(traceIdHex.substring(Math.max(0, traceIdHex.length() - 16)));
  }
}
