package io.linkcorrelator.streams.propagation;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;

/**
 * Datadog's {@code x-datadog-*} headers (P4), as dd-trace for Go, Java, .NET, Node.js, PHP, Python,
 * Ruby and C++ write them: trace and parent ids are unsigned decimals from 1 to 2^64-1 (anything
 * else, or a missing parent, invalidates the context); {@code _dd.p.tid} in {@code x-datadog-tags}
 * gives the upper 64 bits of the trace id when it is exactly 16 lowercase hex characters; sampled
 * when {@code x-datadog-sampling-priority} is &gt; 0, unknown when it is missing or not an integer.
 */
final class DatadogFormat extends HeaderFormat {

  static final DatadogFormat INSTANCE = new DatadogFormat();

  static final String TRACE_ID = "x-datadog-trace-id";
  static final String PARENT_ID = "x-datadog-parent-id";
  static final String PRIORITY = "x-datadog-sampling-priority";
  static final String TAGS = "x-datadog-tags";
  private static final String TID = "_dd.p.tid";
  private static final HexFormat HEX = HexFormat.of();

  private DatadogFormat() {
    super("datadog");
  }

  @Override
  <C> TraceContext read(C carrier, TextMapGetter<C> getter) {
    long low = unsignedId(getter.get(carrier, TRACE_ID));
    long spanId = unsignedId(getter.get(carrier, PARENT_ID));
    if (low == 0 || spanId == 0) {
      return null;
    }
    Sampling sampling = sampling(getter.get(carrier, PRIORITY));
    return context(
        upperTraceId(getter.get(carrier, TAGS)), low, spanId, flags(sampling), "", sampling);
  }

  /** An unsigned decimal from 1 to 2^64-1 as the long with those bits; 0 when invalid. */
  private static long unsignedId(String value) {
    if (value == null || value.isEmpty() || value.length() > 20) {
      return 0;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return 0;
      }
    }
    try {
      return Long.parseUnsignedLong(value);
    } catch (NumberFormatException tooLarge) {
      return 0;
    }
  }

  private static Sampling sampling(String priority) {
    if (priority == null) {
      return Sampling.UNKNOWN;
    }
    try {
      return Sampling.of(Integer.parseInt(priority) > 0);
    } catch (NumberFormatException e) {
      return Sampling.UNKNOWN;
    }
  }

  private static long upperTraceId(String tags) {
    if (tags == null) {
      return 0;
    }
    for (String tag : tags.split(",")) {
      int equals = tag.indexOf('=');
      if (equals > 0 && tag.substring(0, equals).trim().equals(TID)) {
        String value = tag.substring(equals + 1).trim();
        return isLowerHex16(value) ? HexFormat.fromHexDigitsToLong(value) : 0;
      }
    }
    return 0;
  }

  private static boolean isLowerHex16(String value) {
    if (value.length() != 16) {
      return false;
    }
    for (int i = 0; i < 16; i++) {
      char c = value.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public Collection<String> fields() {
    return List.of(TRACE_ID, PARENT_ID, PRIORITY, TAGS);
  }

  /**
   * Writes the span context as dd-trace does: decimal lower 64 bits of the trace id and the span
   * id, priority 1 or 0 from the sampled flag, and {@code _dd.p.tid} for the upper 64 bits.
   */
  @Override
  public <C> void inject(Context context, C carrier, TextMapSetter<C> setter) {
    SpanContext span = Span.fromContext(context).getSpanContext();
    if (!span.isValid()) {
      return;
    }
    String traceId = span.getTraceId();
    long high = HexFormat.fromHexDigitsToLong(traceId, 0, 16);
    setter.set(
        carrier, TRACE_ID, Long.toUnsignedString(HexFormat.fromHexDigitsToLong(traceId, 16, 32)));
    setter.set(
        carrier, PARENT_ID, Long.toUnsignedString(HexFormat.fromHexDigitsToLong(span.getSpanId())));
    setter.set(carrier, PRIORITY, span.isSampled() ? "1" : "0");
    if (high != 0) {
      setter.set(carrier, TAGS, TID + "=" + HEX.toHexDigits(high));
    }
  }
}
