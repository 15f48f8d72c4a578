package io.linkcorrelator.bench;

import com.sun.management.ThreadMXBean;
import io.linkcorrelator.streams.DeadLetterHandler;
import io.linkcorrelator.streams.DeterministicIds;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * One run of one variant on one workload, on TopologyTestDriver with persistent (RocksDB) stores,
 * on this thread: throughput, allocation per record, the most allocated while processing one
 * window-closing record, and the bytes written to the state's changelogs per contributor.
 */
final class DriverRun {

  /**
   * What one run measured.
   *
   * @param records records processed (fewer than the workload when the time limit was hit)
   * @param nanos time they took
   * @param complete whether the whole workload ran within the time limit
   * @param allocatedPerRecord bytes allocated per record on the processing thread
   * @param maxAllocatedAtClose most bytes allocated processing one record that closed a window
   * @param stateBytesPerRecord changelog bytes (keys and values) written per record
   * @param links span links exported
   */
  record Result(
      long records,
      long nanos,
      boolean complete,
      double allocatedPerRecord,
      long maxAllocatedAtClose,
      double stateBytesPerRecord,
      long links) {

    double recordsPerSecond() {
      return records * 1e9 / nanos;
    }
  }

  private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();

  private DriverRun() {}

  static Result run(Variant variant, Workload workload, long timeLimitNanos) {
    Path stateDir = temporaryDirectory();
    AtomicLong links = new AtomicLong();
    SdkTracerProvider tracing =
        SdkTracerProvider.builder()
            .setIdGenerator(DeterministicIds.idGenerator())
            .addSpanProcessor(SimpleSpanProcessor.create(new CountingExporter(links)))
            .build();
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "bench-" + variant.name().toLowerCase());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    // As the application runs: a linked aggregation raises bad and late records to this handler.
    props.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class.getName());
    long thread = Thread.currentThread().getId();
    try (OpenTelemetrySdk openTelemetry =
            OpenTelemetrySdk.builder().setTracerProvider(tracing).build();
        TopologyTestDriver driver =
            new TopologyTestDriver(variant.topology(openTelemetry, workload.windowMs()), props)) {
      TestInputTopic<String, byte[]> input =
          driver.createInputTopic(Variant.INPUT, new StringSerializer(), new ByteArraySerializer());
      long records = 0;
      Written written = new Written();
      long maxAtClose = 0;
      boolean complete = true;
      long allocatedBefore = THREADS.getThreadAllocatedBytes(thread);
      long start = System.nanoTime();
      for (List<TestRecord<String, byte[]>> window : workload.windows()) {
        // The first record of a window closes the one before: measured on its own.
        long before = THREADS.getThreadAllocatedBytes(thread);
        input.pipeInput(window.get(0));
        maxAtClose = Math.max(maxAtClose, THREADS.getThreadAllocatedBytes(thread) - before);
        records++;
        for (int from = 1; from < window.size(); from += 1_000) {
          input.pipeRecordList(window.subList(from, Math.min(window.size(), from + 1_000)));
          written.drain(driver);
          records += Math.min(window.size(), from + 1_000) - from;
          if (System.nanoTime() - start > timeLimitNanos) {
            complete = false;
            break;
          }
        }
        if (!complete) {
          break;
        }
      }
      if (complete) {
        long before = THREADS.getThreadAllocatedBytes(thread);
        input.pipeInput(workload.closer());
        maxAtClose = Math.max(maxAtClose, THREADS.getThreadAllocatedBytes(thread) - before);
      }
      written.drain(driver);

      long nanos = System.nanoTime() - start;
      long allocated = THREADS.getThreadAllocatedBytes(thread) - allocatedBefore;
      tracing.forceFlush().join(10, java.util.concurrent.TimeUnit.SECONDS);
      return new Result(
          records,
          nanos,
          complete,
          (double) allocated / records,
          maxAtClose,
          (double) written.changelogBytes / records,
          links.get());
    } finally {
      delete(stateDir);
    }
  }

  /**
   * What the driver's producer captured, read as the run goes: the bytes written to the state
   * stores' changelog topics. Reading also drops the records, which the driver would otherwise keep
   * in memory (the naive variant writes gigabytes).
   */
  private static final class Written {
    private final Map<String, TestOutputTopic<byte[], byte[]>> topics = new HashMap<>();
    private long changelogBytes;

    void drain(TopologyTestDriver driver) {
      for (String topic : driver.producedTopicNames()) {
        TestOutputTopic<byte[], byte[]> output =
            topics.computeIfAbsent(
                topic,
                name ->
                    driver.createOutputTopic(
                        name, new ByteArrayDeserializer(), new ByteArrayDeserializer()));
        boolean changelog = topic.endsWith("-changelog");
        while (!output.isEmpty()) {
          TestRecord<byte[], byte[]> record = output.readRecord();
          if (changelog) {
            changelogBytes +=
                (record.key() == null ? 0 : record.key().length)
                    + (record.value() == null ? 0 : record.value().length);
          }
        }
      }
    }
  }

  private static Path temporaryDirectory() {
    try {
      return Files.createTempDirectory("bench-state-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind is harmless
    }
  }

  /** Counts the links of exported spans and drops the spans: the exporter costs nothing. */
  private record CountingExporter(AtomicLong links) implements SpanExporter {
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
  }
}
