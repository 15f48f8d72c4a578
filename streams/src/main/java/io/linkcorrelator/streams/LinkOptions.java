package io.linkcorrelator.streams;

import io.linkcorrelator.streams.propagation.TraceContextExtractor;
import io.opentelemetry.context.propagation.TextMapPropagator;

/**
 * The options of linking that do not depend on what is aggregated: the link budgets of a span,
 * waiting for the spans' export, event-time progress and idleness, and the trace-context formats.
 * Set through the library API's {@link LinkedAggregations}, which validates them and names its
 * options in errors.
 *
 * @param maxLinksPerSpan most links on one exported span
 * @param maxLinksJsonChars most characters of Datadog link JSON one span's links may make
 * @param exportFlushTimeoutMs how long results wait for their spans' export; 0 never waits
 * @param partitionIdleMs after a repartition, how long an upstream partition may stand still before
 *     it stops holding windows open
 * @param windowIdleCloseMs how long stream time may stand still before due windows close by the
 *     wall clock; 0 switches it off
 * @param maxFutureMs how far ahead of the wall clock a record's timestamp may be
 * @param extractor how producer span contexts are read from headers
 * @param injector how the aggregate span's context is written into the output headers
 */
record LinkOptions(
    int maxLinksPerSpan,
    int maxLinksJsonChars,
    long exportFlushTimeoutMs,
    long partitionIdleMs,
    long windowIdleCloseMs,
    long maxFutureMs,
    TraceContextExtractor extractor,
    TextMapPropagator injector) {}
