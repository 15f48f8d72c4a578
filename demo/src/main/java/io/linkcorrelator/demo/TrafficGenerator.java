package io.linkcorrelator.demo;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.linkcorrelator.streams.propagation.KafkaHeadersSetter;
import io.linkcorrelator.streams.propagation.TraceFormats;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Traced traffic: several simulated upstream services publish orders to Kafka as JSON ({@code
 * {"orderId":"checkout-1","customer":{"id":"customer-3"},"amount":12.5,"channel":"checkout"}}),
 * each order under a real OpenTelemetry producer span exported over OTLP. The services propagate
 * the way their tracers would: two with W3C {@code traceparent} (OpenTelemetry SDKs), one with
 * Datadog headers (dd-trace), one with B3 (Brave).
 *
 * <p>Runs inside the demo, or alone (e.g. in docker-compose): {@code java -cp
 * link-correlator-demo.jar io.linkcorrelator.demo.TrafficGenerator} with {@code
 * KAFKA_BOOTSTRAP_SERVERS}, {@code OTEL_EXPORTER_OTLP_ENDPOINT}, {@code
 * OTEL_EXPORTER_OTLP_PROTOCOL} ({@code grpc} or {@code http/protobuf}), {@code TRAFFIC_TOPIC}
 * (default orders) and {@code TRAFFIC_RATE} (orders per second, default 50).
 */
public final class TrafficGenerator implements AutoCloseable {

  /** One simulated upstream service: its name and how its tracer writes Kafka headers. */
  record Service(String name, String propagation) {}

  static final List<Service> SERVICES =
      List.of(
          new Service("checkout", "tracecontext"),
          new Service("mobile-api", "tracecontext"),
          new Service("legacy-billing", "datadog"),
          new Service("partner-gateway", "b3"));

  /**
   * One order sent.
   *
   * @param service the service that published it
   * @param customerId its customer (the demo's group key)
   * @param eventTime its timestamp
   * @param producerSpan the producer span it was published under
   */
  public record Sent(String service, String customerId, long eventTime, SpanContext producerSpan) {}

  private final String topic;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KafkaProducer<String, byte[]> producer;
  private final List<SdkTracerProvider> providers = new ArrayList<>();
  private final List<Tracer> tracers = new ArrayList<>();
  private final List<TextMapPropagator> propagators = new ArrayList<>();
  private final Random random = new Random(7);
  private final AtomicLong sent = new AtomicLong();
  private final int customers;

  /**
   * Connects to Kafka and sets up one tracer per service.
   *
   * @param bootstrapServers Kafka
   * @param topic where orders go
   * @param exporter a factory of span exporters, one per service
   * @param customers how many distinct customers the orders spread over
   */
  public TrafficGenerator(
      String bootstrapServers,
      String topic,
      java.util.function.Supplier<SpanExporter> exporter,
      int customers) {
    this.topic = requireNonNull(topic, "topic");
    this.customers = customers;
    this.producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers,
                ProducerConfig.LINGER_MS_CONFIG,
                5),
            new StringSerializer(),
            new ByteArraySerializer());
    for (Service service : SERVICES) {
      SdkTracerProvider provider =
          SdkTracerProvider.builder()
              .setResource(
                  Resource.getDefault()
                      .merge(
                          Resource.create(
                              Attributes.of(
                                  AttributeKey.stringKey("service.name"), service.name()))))
              .addSpanProcessor(
                  BatchSpanProcessor.builder(exporter.get())
                      .setScheduleDelay(Duration.ofMillis(500))
                      .build())
              .build();
      providers.add(provider);
      tracers.add(provider.get("io.linkcorrelator.demo"));
      propagators.add(TraceFormats.injector(service.propagation()));
    }
  }

  /**
   * A span exporter for an OTLP endpoint.
   *
   * @param endpoint base URL, e.g. {@code http://localhost:4318} or {@code http://localhost:4317}
   * @param protocol {@code grpc} or {@code http/protobuf}
   * @return the exporter
   */
  public static SpanExporter exporter(String endpoint, String protocol) {
    return switch (protocol) {
      case "grpc" -> OtlpGrpcSpanExporter.builder().setEndpoint(endpoint).build();
      case "http/protobuf" ->
          OtlpHttpSpanExporter.builder().setEndpoint(endpoint + "/v1/traces").build();
      default ->
          throw new IllegalArgumentException(
              "OTEL_EXPORTER_OTLP_PROTOCOL must be grpc or http/protobuf; got '" + protocol + "'");
    };
  }

  /**
   * Publishes one order from a random service under a new producer span.
   *
   * @return what was sent
   */
  public Sent sendOne() {
    int index = random.nextInt(SERVICES.size());
    Service service = SERVICES.get(index);
    String customer = "customer-" + random.nextInt(customers);
    long now = System.currentTimeMillis();
    String orderId = service.name() + "-" + sent.incrementAndGet();
    byte[] order =
        json(orderId, customer, Math.round(random.nextDouble() * 20_000) / 100.0, service);
    Span span =
        tracers
            .get(index)
            .spanBuilder(topic + " publish")
            .setSpanKind(SpanKind.PRODUCER)
            .setNoParent()
            .setAttribute("messaging.system", "kafka")
            .setAttribute("messaging.destination.name", topic)
            .setAttribute("order.id", orderId)
            .startSpan();
    try {
      ProducerRecord<String, byte[]> record =
          new ProducerRecord<>(topic, null, now, orderId, order);
      propagators
          .get(index)
          .inject(Context.root().with(span), record.headers(), KafkaHeadersSetter.INSTANCE);
      producer.send(record);
    } finally {
      span.end();
    }
    return new Sent(service.name(), customer, now, span.getSpanContext());
  }

  private static byte[] json(String orderId, String customer, double amount, Service service) {
    Map<String, Object> order = new java.util.LinkedHashMap<>();
    order.put("orderId", orderId);
    order.put("customer", Map.of("id", customer));
    order.put("amount", amount);
    order.put("channel", service.name());
    try {
      return JSON.writeValueAsBytes(order);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot write an order as JSON", e);
    }
  }

  /**
   * Publishes at a steady rate until {@code keepGoing} says stop.
   *
   * @param perSecond orders per second
   * @param keepGoing checked before each order
   * @param onSent told of each order
   * @throws InterruptedException when interrupted
   */
  public void run(
      int perSecond, java.util.function.BooleanSupplier keepGoing, Consumer<Sent> onSent)
      throws InterruptedException {
    long intervalNanos = TimeUnit.SECONDS.toNanos(1) / Math.max(1, perSecond);
    long next = System.nanoTime();
    while (keepGoing.getAsBoolean()) {
      onSent.accept(sendOne());
      next += intervalNanos;
      long wait = next - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait); // pacing the traffic, not waiting for a result
      }
    }
  }

  /**
   * How many orders have been sent.
   *
   * @return the count
   */
  public long sent() {
    return sent.get();
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
    providers.forEach(provider -> provider.shutdown().join(10, TimeUnit.SECONDS));
  }

  /**
   * Runs the generator alone until stopped.
   *
   * @param args ignored; configured by environment variables
   * @throws InterruptedException when interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    Map<String, String> env = System.getenv();
    String endpoint = env.getOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318");
    String protocol = env.getOrDefault("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    int rate = Integer.parseInt(env.getOrDefault("TRAFFIC_RATE", "50"));
    TrafficGenerator generator =
        new TrafficGenerator(
            env.getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
            env.getOrDefault("TRAFFIC_TOPIC", "orders"),
            () -> exporter(endpoint, protocol),
            Integer.parseInt(env.getOrDefault("TRAFFIC_CUSTOMERS", "8")));
    java.util.concurrent.atomic.AtomicBoolean running =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  running.set(false);
                  generator.close();
                }));
    System.out.printf(
        "publishing %d orders/s to %s, spans to %s (%s)%n",
        rate, env.getOrDefault("TRAFFIC_TOPIC", "orders"), endpoint, protocol);
    generator.run(rate, running::get, sent -> {});
  }
}
