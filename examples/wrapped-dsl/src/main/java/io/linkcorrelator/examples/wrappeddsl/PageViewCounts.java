package io.linkcorrelator.examples.wrappeddsl;

import java.time.Duration;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;

/**
 * A user's Kafka Streams DSL code, as it was before linking: page views per user and 10-second
 * window, one final count per window. Nothing here knows about tracing.
 */
final class PageViewCounts {

  static final String PAGE_VIEWS = "page-views";
  static final String COUNTS = "page-view-counts";

  private PageViewCounts() {}

  static void define(StreamsBuilder builder) {
    builder.stream(PAGE_VIEWS, Consumed.with(Serdes.String(), Serdes.String()))
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(2)))
        .count()
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .map(
            (window, count) ->
                KeyValue.pair(
                    window.key(),
                    window.key() + " " + window.window().startTime() + " " + count + " views"))
        .to(COUNTS, Produced.with(Serdes.String(), Serdes.String()));
  }
}
