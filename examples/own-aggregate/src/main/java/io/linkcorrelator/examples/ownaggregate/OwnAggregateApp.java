package io.linkcorrelator.examples.ownaggregate;

import io.linkcorrelator.streams.DeadLetterHandler;
import io.linkcorrelator.streams.DeterministicIds;
import io.linkcorrelator.streams.LinkedAggregations;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanLimits;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.WindowedSerdes;

/**
 * A Kafka Streams application with its own aggregate type, linked by the library API: orders keyed
 * by order id are re-keyed by customer, and each customer's {@link CustomerTotals} per 5-second
 * window go to the output topic, one final result per window, each with the aggregate span's {@code
 * traceparent} in its headers; the aggregate span links to the producer span of every order in the
 * window.
 *
 * <pre>
 * java -cp ... io.linkcorrelator.examples.ownaggregate.OwnAggregateApp BOOTSTRAP INPUT OUTPUT
 * </pre>
 *
 * Spans go over OTLP/HTTP to {@code OTEL_EXPORTER_OTLP_ENDPOINT} (default {@code
 * http://localhost:4318}).
 */
public final class OwnAggregateApp {

  /** The windows: 5 seconds, records up to 1 second late still count. */
  public static final TimeWindows WINDOWS =
      TimeWindows.ofSizeAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(1));

  private OwnAggregateApp() {}

  /**
   * The topology: what a user of the library writes.
   *
   * @param linked the linked aggregations, with the application's OpenTelemetry
   * @param input the orders topic (key: order id, value: {@link Order})
   * @param output the totals topic (key: customer and window, value: {@link CustomerTotals})
   * @return the topology
   */
  public static Topology topology(LinkedAggregations linked, String input, String output) {
    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, Order> orders =
        builder.stream(input, Consumed.with(Serdes.String(), Order.SERDE));
    linked
        .groupBy(
            orders,
            (orderId, order) -> order.customer(),
            Grouped.with(Serdes.String(), Order.SERDE))
        .windowedBy(WINDOWS)
        .aggregate(
            CustomerTotals::none,
            (customer, order, totals) -> totals.add(order),
            Named.as("customer-totals"))
        .to(
            output,
            Produced.with(
                WindowedSerdes.timeWindowedSerdeFrom(String.class, WINDOWS.size()),
                CustomerTotals.SERDE));
    return builder.build();
  }

  /**
   * The Kafka Streams settings: exactly-once, and late or bad orders dead-lettered (logged) by the
   * library's handler instead of stopping the stream.
   *
   * @param bootstrapServers Kafka
   * @return the settings
   */
  public static Properties streamsProperties(String bootstrapServers) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "own-aggregate-example");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class.getName());
    return props;
  }

  /**
   * An OpenTelemetry SDK as the library needs it: deterministic span ids, room for the links of one
   * span, spans exported over OTLP/HTTP.
   *
   * @param otlpEndpoint e.g. {@code http://localhost:4318}
   * @return the SDK; close it after Kafka Streams
   */
  public static OpenTelemetrySdk openTelemetry(String otlpEndpoint) {
    return OpenTelemetrySdk.builder()
        .setTracerProvider(
            SdkTracerProvider.builder()
                .setResource(
                    Resource.getDefault().toBuilder()
                        .put("service.name", "own-aggregate-example")
                        .build())
                .setIdGenerator(DeterministicIds.idGenerator())
                .setSpanLimits(
                    SpanLimits.builder()
                        .setMaxNumberOfLinks(LinkedAggregations.DEFAULT_MAX_LINKS_PER_SPAN)
                        .build())
                .addSpanProcessor(
                    BatchSpanProcessor.builder(
                            OtlpHttpSpanExporter.builder()
                                .setEndpoint(otlpEndpoint + "/v1/traces")
                                .build())
                        .build())
                .build())
        .build();
  }

  /**
   * Runs until stopped.
   *
   * @param args bootstrap servers, input topic, output topic
   * @throws InterruptedException when interrupted while running
   */
  public static void main(String[] args) throws InterruptedException {
    if (args.length != 3) {
      System.err.println("usage: OwnAggregateApp BOOTSTRAP_SERVERS INPUT_TOPIC OUTPUT_TOPIC");
      System.exit(2);
    }
    String endpoint =
        System.getenv().getOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318");
    OpenTelemetrySdk openTelemetry = openTelemetry(endpoint);
    KafkaStreams streams =
        new KafkaStreams(
            topology(LinkedAggregations.with(openTelemetry), args[1], args[2]),
            streamsProperties(args[0]));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  streams.close(Duration.ofSeconds(30)); // Kafka Streams first, then the spans
                  openTelemetry.close();
                  stopped.countDown();
                }));
    streams.start();
    stopped.await();
  }
}
