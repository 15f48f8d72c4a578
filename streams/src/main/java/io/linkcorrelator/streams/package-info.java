/**
 * The correlator: capture of each message's trace context, grouping, windowing, emission of the
 * aggregate span with a link to every contributor, and the application's {@code main}.
 */
package io.linkcorrelator.streams;
