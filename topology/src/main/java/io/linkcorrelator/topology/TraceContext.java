package io.linkcorrelator.topology;

import static java.util.Objects.requireNonNull;

import io.linkcorrelator.serdes.CompactSpanContext;

/**
 * A producer span's context found in a message's headers: the ids and flags, the W3C tracestate
 * that came with it, and the format it was read from.
 *
 * @param ids trace id, span id and flags; always valid
 * @param traceState W3C tracestate as received, empty when none
 * @param format the propagation format, e.g. {@code tracecontext}
 */
public record TraceContext(CompactSpanContext ids, String traceState, String format) {

  /**
   * Validates.
   *
   * @throws IllegalArgumentException when the ids are not a valid context
   */
  public TraceContext {
    requireNonNull(ids, "ids");
    requireNonNull(traceState, "traceState");
    requireNonNull(format, "format");
    if (!ids.isValid()) {
      throw new IllegalArgumentException("not a valid span context: " + ids);
    }
  }
}
