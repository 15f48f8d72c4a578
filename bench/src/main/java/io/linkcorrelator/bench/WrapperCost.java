package io.linkcorrelator.bench;

import io.linkcorrelator.streams.DeterministicIds;
import io.linkcorrelator.streams.LinkedProcessorWrapper;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.test.TestRecord;

/**
 * What {@code LinkedProcessorWrapper} costs: the same DSL topology (a tumbling windowed {@code
 * count()} with {@code suppress(untilWindowCloses)}, RocksDB stores) on TopologyTestDriver without
 * and with the wrapper, identical pre-generated records each with its own {@code traceparent},
 * alternating runs after a warm-up, the median of each printed with their ratio. With the wrapper,
 * spans go through the SDK's batch processor to an exporter that drops them.
 *
 * <pre>
 * java -cp bench/target/link-correlator-bench.jar io.linkcorrelator.bench.WrapperCost \
 *     [records, default 100000] [contributors per window, default 100] [runs, default 3]
 * </pre>
 */
public final class WrapperCost {

  private static final long T0 = 1_700_000_000_000L;

  private WrapperCost() {}

  /**
   * Runs the comparison and prints it.
   *
   * @param args records, contributors per window, runs
   */
  public static void main(String[] args) {
    int records = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int perWindow = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    List<TestRecord<String, String>> input = input(records);
    long windowMs = perWindow * 10L;
    run(input, windowMs, false);
    run(input, windowMs, true); // warm-up
    double[] plain = new double[runs];
    double[] wrapped = new double[runs];
    long links = 0;
    for (int i = 0; i < runs; i++) {
      plain[i] = run(input, windowMs, false).perSecond();
      Run linked = run(input, windowMs, true);
      wrapped[i] = linked.perSecond();
      links = linked.links();
    }
    double plainMedian = median(plain);
    double wrappedMedian = median(wrapped);
    System.out.printf(
        Locale.ROOT,
        "%,d records, %d per window and key: unwrapped %,.0f records/s, wrapped %,.0f records/s"
            + " (%,d links), wrapped/unwrapped throughput %.2f%n",
        records,
        perWindow,
        plainMedian,
        wrappedMedian,
        links,
        wrappedMedian / plainMedian);
  }

  private record Run(long records, long nanos, long links) {
    double perSecond() {
      return records * 1e9 / nanos;
    }
  }

  /** Ten keys, one record per key every 10 ms of event time, then one per key an hour later. */
  private static List<TestRecord<String, String>> input(int records) {
    List<TestRecord<String, String>> input = new ArrayList<>(records + 10);
    for (int i = 0; i < records + 10; i++) {
      long time = i < records ? T0 + (i / 10) * 10L : T0 + records * 10L + 3_600_000L;
      String span = HexFormat.of().toHexDigits(i + 1L);
      RecordHeaders headers = new RecordHeaders();
      headers.add(
          "traceparent",
          ("00-" + "0".repeat(16) + span + "-" + span + "-01").getBytes(StandardCharsets.UTF_8));
      input.add(new TestRecord<>("key-" + i % 10, "v", headers, time));
    }
    return input;
  }

  private static Run run(List<TestRecord<String, String>> input, long windowMs, boolean wrapped) {
    Path stateDir = tempDir();
    AtomicLong links = new AtomicLong();
    OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .setIdGenerator(DeterministicIds.idGenerator())
                    .addSpanProcessor(BatchSpanProcessor.builder(dropping(links)).build())
                    .build())
            .build();
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "wrapper-cost");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    if (wrapped) {
      props.put(StreamsConfig.PROCESSOR_WRAPPER_CLASS_CONFIG, LinkedProcessorWrapper.class);
      props.put(LinkedProcessorWrapper.OPEN_TELEMETRY_CONFIG, sdk);
    }
    StreamsBuilder builder = new StreamsBuilder(new TopologyConfig(new StreamsConfig(props)));
    builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(windowMs), Duration.ZERO))
        .count()
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .map((window, count) -> KeyValue.pair(window.key(), String.valueOf(count)))
        .to("out", Produced.with(Serdes.String(), Serdes.String()));
    long start;
    long end;
    try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
      TestInputTopic<String, String> in =
          driver.createInputTopic("in", new StringSerializer(), new StringSerializer());
      TestOutputTopic<String, String> out =
          driver.createOutputTopic("out", new StringDeserializer(), new StringDeserializer());
      start = System.nanoTime();
      for (TestRecord<String, String> record : input) {
        in.pipeInput(record);
      }
      end = System.nanoTime();
      if (out.readValuesToList().isEmpty()) {
        throw new IllegalStateException("no window closed");
      }
    } finally {
      sdk.close();
      delete(stateDir);
    }
    return new Run(input.size(), end - start, links.get());
  }

  private static SpanExporter dropping(AtomicLong links) {
    return new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        spans.forEach(span -> links.addAndGet(span.getLinks().size()));
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }
    };
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("wrapper-cost");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted((a, b) -> b.compareTo(a)).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
