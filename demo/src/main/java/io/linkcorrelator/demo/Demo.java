package io.linkcorrelator.demo;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.linkcorrelator.schemas.Order;
import io.linkcorrelator.serdes.AvroSerde;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The one-command demo. Until the correlator exists it is a smoke run of the real components: it
 * starts the embedded KRaft broker and OTLP receiver, produces traced orders (each with a real
 * OpenTelemetry producer span and a {@code traceparent} header), reads them back, and exports one
 * span linking every order's producer span, which the receiver decodes.
 */
public final class Demo {

  private static final String TOPIC = "orders";
  private static final int ORDERS = 20;

  private Demo() {}

  /**
   * Runs the smoke demo and exits.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    long started = System.nanoTime();
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
        OtlpReceiver receiver = OtlpReceiver.start();
        SdkTracerProvider tracing = tracing(receiver)) {
      System.out.printf(
          "broker %s and OTLP receiver %s up in %d ms%n",
          kafka.bootstrapServers(), receiver.httpEndpoint(), elapsedMillis(started));
      kafka.createTopic(TOPIC, 4);
      Tracer tracer = tracing.get("link-correlator-demo");

      List<SpanContext> producerSpans = produceTracedOrders(kafka, tracer);
      List<ConsumerRecord<String, byte[]>> read = readBack(kafka);
      System.out.printf("produced %d traced orders, read %d back%n", ORDERS, read.size());

      Span batch =
          tracer
              .spanBuilder("orders batch")
              .setSpanKind(SpanKind.CONSUMER)
              .setNoParent()
              .startSpan();
      for (ConsumerRecord<String, byte[]> record : read) {
        batch.addLink(
            contextOf(record),
            Attributes.of(
                AttributeKey.stringKey("messaging.destination.name"), record.topic(),
                AttributeKey.longKey("messaging.kafka.offset"), record.offset()));
      }
      batch.end();
      tracing.forceFlush().join(10, TimeUnit.SECONDS);

      ReceivedSpan received =
          receiver
              .awaitSpans(span -> span.name().equals("orders batch"), 1, Duration.ofSeconds(10))
              .get(0);
      long linked =
          producerSpans.stream()
              .filter(span -> received.linksTo(span.getTraceId(), span.getSpanId()))
              .count();
      System.out.printf(
          "receiver got span %s with %d links: %d of %d producer spans linked%n",
          received.traceId(), received.links().size(), linked, producerSpans.size());
      System.out.printf("smoke run done in %d ms%n", elapsedMillis(started));
      if (linked != ORDERS) {
        System.exit(1);
      }
    }
  }

  private static List<SpanContext> produceTracedOrders(EmbeddedKafka kafka, Tracer tracer) {
    AvroSerde<Order> orders = AvroSerde.of(Order.class);
    List<SpanContext> spans = new ArrayList<>();
    Map<String, Object> config =
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (KafkaProducer<String, Order> producer =
        new KafkaProducer<>(config, new StringSerializer(), orders.serializer())) {
      for (int i = 0; i < ORDERS; i++) {
        Span span =
            tracer
                .spanBuilder(TOPIC + " publish")
                .setSpanKind(SpanKind.PRODUCER)
                .setNoParent()
                .startSpan();
        SpanContext context = span.getSpanContext();
        String customer = "customer-" + (i % 4);
        Order order =
            Order.newBuilder()
                .setOrderId("order-" + i)
                .setCustomerId(customer)
                .setAmount(10 + i)
                .build();
        ProducerRecord<String, Order> record = new ProducerRecord<>(TOPIC, customer, order);
        String traceparent =
            "00-"
                + context.getTraceId()
                + "-"
                + context.getSpanId()
                + "-"
                + context.getTraceFlags().asHex();
        record.headers().add("traceparent", traceparent.getBytes(StandardCharsets.UTF_8));
        producer.send(record);
        span.end();
        spans.add(context);
      }
    }
    return spans;
  }

  private static List<ConsumerRecord<String, byte[]>> readBack(EmbeddedKafka kafka) {
    Map<String, Object> config =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "demo",
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<ConsumerRecord<String, byte[]>> read = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            config,
            new StringDeserializer(),
            new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      consumer.subscribe(List.of(TOPIC));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (read.size() < ORDERS && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(read::add);
      }
    }
    return read;
  }

  private static SpanContext contextOf(ConsumerRecord<String, byte[]> record) {
    String[] parts =
        new String(record.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8)
            .split("-");
    return SpanContext.createFromRemoteParent(
        parts[1],
        parts[2],
        io.opentelemetry.api.trace.TraceFlags.fromHex(parts[3], 0),
        io.opentelemetry.api.trace.TraceState.getDefault());
  }

  private static SdkTracerProvider tracing(OtlpReceiver receiver) {
    return SdkTracerProvider.builder()
        .setResource(
            Resource.getDefault()
                .merge(
                    Resource.create(
                        Attributes.of(
                            AttributeKey.stringKey("service.name"), "link-correlator-demo"))))
        .addSpanProcessor(
            BatchSpanProcessor.builder(
                    OtlpHttpSpanExporter.builder().setEndpoint(receiver.httpTracesUrl()).build())
                .build())
        .build();
  }

  private static long elapsedMillis(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
