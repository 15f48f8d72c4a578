package io.linkcorrelator.streams.propagation;

import static java.util.Objects.requireNonNull;

import io.linkcorrelator.serdes.CompactSpanContext;

/**
 * A producer span's context found in a message's headers: the ids and flags, the W3C tracestate
 * that came with it, and the format it was read from.
 *
 * @param ids trace id, span id and flags (bit 0 set when sampled); always valid
 * @param traceState W3C tracestate as received, empty when none
 * @param format the propagation format, e.g. {@code tracecontext}
 * @param sampling what the headers say about sampling
 */
public record TraceContext(
    CompactSpanContext ids, String traceState, String format, Sampling sampling) {

  /**
   * Validates.
   *
   * @throws IllegalArgumentException when the ids are not a valid context
   */
  public TraceContext {
    requireNonNull(ids, "ids");
    requireNonNull(traceState, "traceState");
    requireNonNull(format, "format");
    requireNonNull(sampling, "sampling");
    if (!ids.isValid()) {
      throw new IllegalArgumentException("not a valid span context: " + ids);
    }
  }

  /** The same context with another span id and tracestate (the same trace id and sampling). */
  TraceContext withSpan(long spanId, String newTraceState) {
    return new TraceContext(
        new CompactSpanContext(ids.traceIdHigh(), ids.traceIdLow(), spanId, ids.traceFlags()),
        newTraceState,
        format,
        sampling);
  }

  boolean sameTrace(TraceContext other) {
    return ids.traceIdHigh() == other.ids.traceIdHigh()
        && ids.traceIdLow() == other.ids.traceIdLow();
  }
}
