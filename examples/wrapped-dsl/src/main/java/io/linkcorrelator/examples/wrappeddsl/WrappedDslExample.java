package io.linkcorrelator.examples.wrappeddsl;

import io.linkcorrelator.streams.DeterministicIds;
import io.linkcorrelator.streams.LinkedProcessorWrapper;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyConfig;

/**
 * Runs {@link PageViewCounts} with linked results: the only additions to a plain Kafka Streams main
 * are the two {@code LinkedProcessorWrapper} settings and passing the configuration to the {@code
 * StreamsBuilder} (which a processor wrapper needs). Each window's count then comes with an
 * aggregate span linked to the span of every page view it counts, exported over OTLP/HTTP, and the
 * count record carries that span's {@code traceparent}.
 *
 * <p>Arguments: bootstrap servers (default {@code localhost:9092}) and the OTLP traces URL (default
 * {@code http://localhost:4318/v1/traces}).
 */
public final class WrappedDslExample {

  private WrappedDslExample() {}

  /**
   * Starts the application and runs until the JVM stops.
   *
   * @param args bootstrap servers, OTLP traces URL
   * @throws InterruptedException when interrupted while running
   */
  public static void main(String[] args) throws InterruptedException {
    String bootstrap = args.length > 0 ? args[0] : "localhost:9092";
    String otlp = args.length > 1 ? args[1] : "http://localhost:4318/v1/traces";
    OpenTelemetrySdk openTelemetry = openTelemetry(otlp);
    KafkaStreams streams = start(settings(bootstrap, openTelemetry));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  streams.close();
                  openTelemetry.close(); // flushes the last spans
                  stopped.countDown();
                }));
    stopped.await();
  }

  /** OpenTelemetry exporting over OTLP/HTTP, with replay-stable ids for the aggregate spans. */
  static OpenTelemetrySdk openTelemetry(String otlpTracesUrl) {
    return OpenTelemetrySdk.builder()
        .setTracerProvider(
            SdkTracerProvider.builder()
                .setIdGenerator(DeterministicIds.idGenerator())
                .addSpanProcessor(
                    BatchSpanProcessor.builder(
                            OtlpHttpSpanExporter.builder().setEndpoint(otlpTracesUrl).build())
                        .build())
                .build())
        .build();
  }

  /** The application's Kafka Streams settings, with the wrapper's two lines. */
  static Properties settings(String bootstrapServers, OpenTelemetrySdk openTelemetry) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "page-view-counts");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    // Linking, by configuration:
    props.put(StreamsConfig.PROCESSOR_WRAPPER_CLASS_CONFIG, LinkedProcessorWrapper.class);
    props.put(LinkedProcessorWrapper.OPEN_TELEMETRY_CONFIG, openTelemetry);
    return props;
  }

  /** Builds the unchanged topology with the settings and starts it. */
  static KafkaStreams start(Properties props) {
    StreamsBuilder builder = new StreamsBuilder(new TopologyConfig(new StreamsConfig(props)));
    PageViewCounts.define(builder);
    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    streams.start();
    return streams;
  }
}
