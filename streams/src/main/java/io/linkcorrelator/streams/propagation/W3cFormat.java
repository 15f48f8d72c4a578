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

  /** The length of a version-00 {@code traceparent}: {@code 00-<32 hex>-<16 hex>-<2 hex>}. */
  private static final int VERSION_00_LENGTH = 55;

  @Override
  <C> TraceContext read(C carrier, TextMapGetter<C> getter) {
    if (carrier instanceof HeaderIndex index) {
      byte[] raw = index.raw("traceparent");
      if (raw != null && raw.length == VERSION_00_LENGTH && raw[0] == '0' && raw[1] == '0') {
        return readVersion00(raw, carrier, getter); // the common case, from the header's bytes
      }
    }
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

  /**
   * A version-00 {@code traceparent} read from its bytes, without decoding it into a string and
   * splitting it; it accepts and rejects exactly what the general path does with such a value.
   */
  private <C> TraceContext readVersion00(byte[] raw, C carrier, TextMapGetter<C> getter) {
    if (raw[2] != '-' || raw[35] != '-' || raw[52] != '-') {
      return null;
    }
    long high = hex(raw, 3, 19);
    long low = hex(raw, 19, 35);
    long spanId = hex(raw, 36, 52);
    long flags = hex(raw, 53, 55);
    if (invalid(raw, 3, 35) || invalid(raw, 36, 52) || invalid(raw, 53, 55)) {
      return null;
    }
    String traceState = getter.get(carrier, "tracestate");
    return context(
        high,
        low,
        spanId,
        (byte) flags,
        traceState == null || traceState.length() > MAX_TRACESTATE ? "" : traceState,
        Sampling.of((flags & 1) != 0));
  }

  /** The hex digits in {@code raw[from, to)} as a number; see {@link #invalid} first. */
  private static long hex(byte[] raw, int from, int to) {
    long value = 0;
    for (int i = from; i < to; i++) {
      value = value << 4 | Character.digit(raw[i], 16) & 0xF;
    }
    return value;
  }

  /** Whether a byte in {@code raw[from, to)} is not a hex digit (in either case). */
  private static boolean invalid(byte[] raw, int from, int to) {
    for (int i = from; i < to; i++) {
      if (Character.digit(raw[i], 16) < 0) {
        return true;
      }
    }
    return false;
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
