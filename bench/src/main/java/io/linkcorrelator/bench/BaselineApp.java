package io.linkcorrelator.bench;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.WindowedSerdes;

/**
 * The end-to-end baseline A as a user would write it and run it: a plain DSL windowed {@code
 * count()} with {@code suppress(untilWindowCloses)}, one final count per key and window, no
 * tracing. Started by {@link EndToEnd} in a JVM of its own, like the correlator's jar: {@code java
 * -cp link-correlator-bench.jar io.linkcorrelator.bench.BaselineApp <properties>}, where the file
 * holds Kafka Streams' settings and {@link #INPUT}, {@link #OUTPUT}, {@link #WINDOW_SIZE_MS}.
 */
final class BaselineApp {

  /** The input topic. */
  static final String INPUT = "bench.input.topic";

  /** The output topic: windowed key, final count. */
  static final String OUTPUT = "bench.output.topic";

  /** The tumbling windows' size in milliseconds; no grace. */
  static final String WINDOW_SIZE_MS = "bench.window.size.ms";

  static {
    if (System.getProperty("log4j2.configurationFile") == null) {
      System.setProperty("log4j2.configurationFile", "classpath:log4j2-bench.xml");
    }
  }

  private BaselineApp() {}

  static Topology topology(String input, String output, long windowMs) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(windowMs), Duration.ZERO))
        .count(Materialized.as("counts"))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .to(
            output,
            Produced.with(
                WindowedSerdes.timeWindowedSerdeFrom(String.class, windowMs), Serdes.Long()));
    return builder.build();
  }

  /**
   * Runs the baseline until SIGTERM; exits with status 1 when Kafka Streams fails.
   *
   * @param args the properties file
   * @throws IOException when the file cannot be read
   * @throws InterruptedException when interrupted while running
   */
  public static void main(String[] args) throws IOException, InterruptedException {
    if (args.length != 1) {
      System.err.println("usage: BaselineApp <properties>");
      System.exit(2);
    }
    Properties props = new Properties();
    try (Reader reader = Files.newBufferedReader(Path.of(args[0]))) {
      props.load(reader);
    }
    Topology topology =
        topology(
            take(props, INPUT), take(props, OUTPUT), Long.parseLong(take(props, WINDOW_SIZE_MS)));
    CountDownLatch stopped = new CountDownLatch(1);
    KafkaStreams streams = new KafkaStreams(topology, props);
    streams.setStateListener(
        (now, before) -> {
          // The same words as the correlator's log line, which EndToEnd reads the phases from.
          System.out.println(java.time.Instant.now() + " Kafka Streams " + before + " -> " + now);
          if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
            stopped.countDown();
          }
        });
    Runtime.getRuntime().addShutdownHook(new Thread(streams::close, "baseline-shutdown"));
    streams.start();
    stopped.await();
    if (streams.state() == KafkaStreams.State.ERROR) {
      System.exit(1);
    }
  }

  /** Removes one of the baseline's own keys (Kafka Streams would warn about it) and returns it. */
  private static String take(Properties props, String key) {
    String value = (String) props.remove(key);
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(key + " is required");
    }
    return value;
  }
}
