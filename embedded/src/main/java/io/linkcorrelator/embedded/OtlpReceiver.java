package io.linkcorrelator.embedded;

import com.google.protobuf.InvalidProtocolBufferException;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real OTLP trace receiver in this JVM, standing in for a Collector, Jaeger or the Datadog Agent
 * in tests and the demo. It accepts what OpenTelemetry exporters send:
 *
 * <ul>
 *   <li>OTLP/HTTP with protobuf bodies at {@code POST /v1/traces}, plain or {@code
 *       Content-Encoding: gzip} ({@link #httpEndpoint()});
 *   <li>OTLP/gRPC, the {@code opentelemetry.proto.collector.trace.v1.TraceService/Export} call
 *       ({@link #grpcEndpoint()}).
 * </ul>
 *
 * <p>It also takes OTLP metrics ({@code /v1/metrics}, {@code MetricsService/Export}) and keeps the
 * latest value of each data point of every sum and gauge ({@link #metricPoints}, {@link #counter},
 * {@link #awaitMetric}).
 *
 * <p>Every trace request is decoded as an {@code ExportTraceServiceRequest} and each span is kept
 * with its resource, links, attributes and {@code dropped_links_count} ({@link ReceivedSpan}).
 * Tests wait for spans with {@link #awaitSpans(Predicate, int, Duration)} and query them by name,
 * trace id or linked context.
 *
 * <p>{@link #stop()} closes both ports and {@link #restart()} opens them again on the same port
 * numbers, to simulate a backend outage; spans received before the outage are kept.
 */
public final class OtlpReceiver implements AutoCloseable {

  /** Transport name of spans received over OTLP/HTTP: {@value}. */
  public static final String HTTP = "http/protobuf";

  /** Transport name of spans received over OTLP/gRPC: {@value}. */
  public static final String GRPC = "grpc";

  private static final Logger LOG = LoggerFactory.getLogger(OtlpReceiver.class);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final int httpPort;
  private final int grpcPort;
  private final List<ReceivedSpan> spans = new ArrayList<>();
  private final List<ReceivedRequest> traceRequests = new ArrayList<>();
  private final Map<String, Map<String, Double>> metrics = new HashMap<>();
  private int requests;
  private volatile long traceResponseDelayMs;
  private HttpServer httpServer;
  private ExecutorService httpExecutor;
  private Server grpcServer;

  private OtlpReceiver(int httpPort, int grpcPort) {
    this.httpPort = httpPort;
    this.grpcPort = grpcPort;
  }

  /**
   * Starts a receiver on two free loopback ports.
   *
   * @return the running receiver
   */
  public static OtlpReceiver start() {
    try {
      OtlpReceiver receiver = new OtlpReceiver(EmbeddedKafka.freePort(), EmbeddedKafka.freePort());
      receiver.open();
      return receiver;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the OTLP receiver", e);
    }
  }

  /**
   * Makes the receiver a slow backend: every trace export (HTTP or gRPC) is answered only after
   * {@code delay}, its spans recorded once it is answered. Default zero.
   *
   * @param delay how long each trace export request waits for its response
   */
  public void delayTraceResponses(Duration delay) {
    traceResponseDelayMs = delay.toMillis();
  }

  private void awaitResponseDelay() {
    long delay = traceResponseDelayMs;
    if (delay > 0) {
      try {
        Thread.sleep(delay); // a slow backend: the exporter waits for this response
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Base URL of the OTLP/HTTP endpoint, as {@code OTEL_EXPORTER_OTLP_ENDPOINT} takes it (the
   * exporter appends {@code /v1/traces}).
   *
   * @return {@code http://127.0.0.1:<port>}
   */
  public String httpEndpoint() {
    return "http://" + LOOPBACK.getHostAddress() + ":" + httpPort;
  }

  /**
   * Full URL of the traces path, as {@code OtlpHttpSpanExporter.builder().setEndpoint} takes it.
   *
   * @return {@code http://127.0.0.1:<port>/v1/traces}
   */
  public String httpTracesUrl() {
    return httpEndpoint() + "/v1/traces";
  }

  /**
   * URL of the OTLP/gRPC endpoint.
   *
   * @return {@code http://127.0.0.1:<port>}
   */
  public String grpcEndpoint() {
    return "http://" + LOOPBACK.getHostAddress() + ":" + grpcPort;
  }

  /** Opens both ports again after {@link #stop()}; does nothing when already running. */
  public synchronized void restart() {
    if (httpServer == null) {
      try {
        open();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot restart the OTLP receiver", e);
      }
    }
  }

  /** Closes both ports (exports now fail as if the backend were down); keeps received spans. */
  public synchronized void stop() {
    if (httpServer != null) {
      httpServer.stop(0);
      httpExecutor.shutdownNow();
      grpcServer.shutdownNow();
      try {
        grpcServer.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      httpServer = null;
      grpcServer = null;
    }
  }

  @Override
  public void close() {
    stop();
  }

  /**
   * Every span received so far, in arrival order.
   *
   * @return a snapshot
   */
  public synchronized List<ReceivedSpan> spans() {
    return List.copyOf(spans);
  }

  /**
   * The received spans that match.
   *
   * @param filter which spans
   * @return a snapshot, in arrival order
   */
  public synchronized List<ReceivedSpan> spans(Predicate<ReceivedSpan> filter) {
    return spans.stream().filter(filter).toList();
  }

  /**
   * The received spans with this name.
   *
   * @param name span name
   * @return a snapshot
   */
  public List<ReceivedSpan> spansNamed(String name) {
    return spans(span -> span.name().equals(name));
  }

  /**
   * The received spans of one trace.
   *
   * @param traceId 32 hex characters
   * @return a snapshot
   */
  public List<ReceivedSpan> spansOfTrace(String traceId) {
    return spans(span -> span.traceId().equals(traceId));
  }

  /**
   * The received spans that carry a link to the given span.
   *
   * @param traceId linked trace id, 32 hex characters
   * @param spanId linked span id, 16 hex characters
   * @return a snapshot
   */
  public List<ReceivedSpan> spansLinkedTo(String traceId, String spanId) {
    return spans(span -> span.linksTo(traceId, spanId));
  }

  /**
   * Waits until at least {@code count} received spans match.
   *
   * @param filter which spans
   * @param count how many at least
   * @param timeout how long at most
   * @return the matching spans
   * @throws AssertionError when fewer arrived in time, saying how many did
   */
  public synchronized List<ReceivedSpan> awaitSpans(
      Predicate<ReceivedSpan> filter, int count, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<ReceivedSpan> matching = spans(filter);
    while (matching.size() < count) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "waited "
                + timeout
                + " for "
                + count
                + " matching spans, got "
                + matching.size()
                + " (of "
                + spans.size()
                + " received in "
                + requests
                + " requests)");
      }
      try {
        TimeUnit.NANOSECONDS.timedWait(this, left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for spans", e);
      }
      matching = spans(filter);
    }
    return matching;
  }

  /**
   * Waits until at least {@code count} spans have been received.
   *
   * @param count how many at least
   * @param timeout how long at most
   * @return every received span
   */
  public List<ReceivedSpan> awaitSpans(int count, Duration timeout) {
    return awaitSpans(span -> true, count, timeout);
  }

  /**
   * How many export requests have been accepted.
   *
   * @return request count over both transports
   */
  public synchronized int requestCount() {
    return requests;
  }

  /**
   * Every trace export request accepted so far, in arrival order, with its timing.
   *
   * @return a snapshot
   */
  public synchronized List<ReceivedRequest> traceRequests() {
    return List.copyOf(traceRequests);
  }

  private synchronized void record(
      ExportTraceServiceRequest request, String transport, long arrivedAtEpochNanos) {
    requests++;
    long decoded = epochNanos();
    int count = 0;
    long earliestEnd = Long.MAX_VALUE;
    long latestEnd = 0;
    for (ResourceSpans resourceSpans : request.getResourceSpansList()) {
      for (ScopeSpans scopeSpans : resourceSpans.getScopeSpansList()) {
        for (Span span : scopeSpans.getSpansList()) {
          spans.add(
              new ReceivedSpan(span, resourceSpans.getResource(), transport, arrivedAtEpochNanos));
          count++;
          earliestEnd = Math.min(earliestEnd, span.getEndTimeUnixNano());
          latestEnd = Math.max(latestEnd, span.getEndTimeUnixNano());
        }
      }
    }
    traceRequests.add(
        new ReceivedRequest(
            transport,
            arrivedAtEpochNanos,
            decoded,
            count,
            count == 0 ? 0 : earliestEnd,
            latestEnd));
    notifyAll();
  }

  /** The wall clock in epoch nanoseconds, as precise as the platform's clock, as spans' times. */
  private static long epochNanos() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  private void open() throws IOException {
    httpExecutor = Executors.newFixedThreadPool(2, daemon("otlp-http"));
    httpServer = HttpServer.create(new InetSocketAddress(LOOPBACK, httpPort), 50);
    httpServer.setExecutor(httpExecutor);
    httpServer.createContext("/v1/traces", this::handleHttp);
    httpServer.createContext("/v1/metrics", this::handleHttpMetrics);
    httpServer.start();
    grpcServer =
        NettyServerBuilder.forAddress(new InetSocketAddress(LOOPBACK, grpcPort))
            .maxInboundMessageSize(64 * 1024 * 1024)
            .addService(new TraceService())
            .addService(new MetricsService())
            .build()
            .start();
    LOG.info("OTLP receiver: http {} grpc {}", httpEndpoint(), grpcEndpoint());
  }

  /**
   * The latest value the exporters sent of a counter (a monotonic sum, cumulative as OTLP exporters
   * send by default), for the data point with the given attribute, summed over resources.
   *
   * @param metric metric name, e.g. {@code correlator.records}
   * @param attribute attribute key, or null for the points without attributes
   * @param value attribute value
   * @return the value; 0 when nothing was received
   */
  public synchronized long counter(String metric, String attribute, String value) {
    Double latest = metricPoints(metric).get(attribute == null ? "" : attribute + "=" + value);
    return latest == null ? 0 : latest.longValue();
  }

  /**
   * The names of every metric received so far (sums, gauges and histograms).
   *
   * @return a snapshot, sorted
   */
  public synchronized SortedSet<String> metricNames() {
    return new TreeSet<>(metrics.keySet());
  }

  /**
   * The latest value of each data point of a sum or gauge, by its attributes ({@code k=v} pairs
   * joined by commas in the order received, "" for none), summed over the resources of one export.
   *
   * @param metric metric name
   * @return a snapshot; empty when nothing was received
   */
  public synchronized Map<String, Double> metricPoints(String metric) {
    return Map.copyOf(metrics.getOrDefault(metric, Map.of()));
  }

  /**
   * Waits until the latest data points of a metric satisfy a condition.
   *
   * @param metric metric name
   * @param condition on {@link #metricPoints(String)}
   * @param timeout how long at most
   * @return the points that satisfied it
   * @throws AssertionError when they did not in time, saying what was received
   */
  public synchronized Map<String, Double> awaitMetric(
      String metric, Predicate<Map<String, Double>> condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<String, Double> points = metricPoints(metric);
    while (!condition.test(points)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "waited "
                + timeout
                + " for metric "
                + metric
                + " to match; latest points "
                + points
                + " (metrics received: "
                + metrics.keySet()
                + ")");
      }
      try {
        TimeUnit.NANOSECONDS.timedWait(this, left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for metric " + metric, e);
      }
      points = metricPoints(metric);
    }
    return points;
  }

  private synchronized void record(ExportMetricsServiceRequest request) {
    Map<String, Map<String, Double>> latest = new HashMap<>();
    for (ResourceMetrics resourceMetrics : request.getResourceMetricsList()) {
      for (ScopeMetrics scopeMetrics : resourceMetrics.getScopeMetricsList()) {
        for (Metric metric : scopeMetrics.getMetricsList()) {
          List<NumberDataPoint> points =
              switch (metric.getDataCase()) {
                case SUM -> metric.getSum().getDataPointsList();
                case GAUGE -> metric.getGauge().getDataPointsList();
                default -> List.of();
              };
          Map<String, Double> values =
              latest.computeIfAbsent(metric.getName(), name -> new HashMap<>());
          for (NumberDataPoint point : points) {
            String attributes =
                point.getAttributesList().stream()
                    .map(a -> a.getKey() + "=" + text(a.getValue()))
                    .collect(java.util.stream.Collectors.joining(","));
            double number = point.hasAsInt() ? point.getAsInt() : point.getAsDouble();
            values.merge(attributes, number, Double::sum);
          }
        }
      }
    }
    latest.forEach(
        (name, points) -> metrics.computeIfAbsent(name, n -> new HashMap<>()).putAll(points));
    notifyAll();
  }

  private static String text(AnyValue value) {
    return switch (value.getValueCase()) {
      case STRING_VALUE -> value.getStringValue();
      case BOOL_VALUE -> String.valueOf(value.getBoolValue());
      case INT_VALUE -> String.valueOf(value.getIntValue());
      case DOUBLE_VALUE -> String.valueOf(value.getDoubleValue());
      default -> value.toString().trim();
    };
  }

  private void handleHttpMetrics(HttpExchange exchange) throws IOException {
    try (exchange;
        InputStream body = body(exchange)) {
      record(ExportMetricsServiceRequest.parseFrom(body));
      respond(
          exchange,
          200,
          "application/x-protobuf",
          ExportMetricsServiceResponse.getDefaultInstance().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      respond(exchange, 400, "text/plain", e.getMessage().getBytes(StandardCharsets.UTF_8));
    }
  }

  private void handleHttp(HttpExchange exchange) throws IOException {
    long arrived = epochNanos();
    try (exchange) {
      if (!"POST".equals(exchange.getRequestMethod())) {
        respond(exchange, 405, "text/plain", "POST only".getBytes(StandardCharsets.UTF_8));
        return;
      }
      String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
      if (contentType == null || !contentType.startsWith("application/x-protobuf")) {
        respond(
            exchange,
            415,
            "text/plain",
            ("only application/x-protobuf is supported, got " + contentType)
                .getBytes(StandardCharsets.UTF_8));
        return;
      }
      ExportTraceServiceRequest request;
      try (InputStream body = body(exchange)) {
        request = ExportTraceServiceRequest.parseFrom(body);
      } catch (InvalidProtocolBufferException e) {
        respond(
            exchange,
            400,
            "text/plain",
            ("not an ExportTraceServiceRequest: " + e.getMessage())
                .getBytes(StandardCharsets.UTF_8));
        return;
      }
      awaitResponseDelay();
      record(request, HTTP, arrived);
      respond(
          exchange,
          200,
          "application/x-protobuf",
          ExportTraceServiceResponse.getDefaultInstance().toByteArray());
    }
  }

  private static InputStream body(HttpExchange exchange) throws IOException {
    String encoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
    InputStream raw = exchange.getRequestBody();
    return "gzip".equalsIgnoreCase(encoding) ? new GZIPInputStream(raw) : raw;
  }

  private static void respond(HttpExchange exchange, int status, String type, byte[] body)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  private final class MetricsService extends MetricsServiceGrpc.MetricsServiceImplBase {
    @Override
    public void export(
        ExportMetricsServiceRequest request,
        StreamObserver<ExportMetricsServiceResponse> responseObserver) {
      record(request);
      responseObserver.onNext(ExportMetricsServiceResponse.getDefaultInstance());
      responseObserver.onCompleted();
    }
  }

  private final class TraceService extends TraceServiceGrpc.TraceServiceImplBase {
    @Override
    public void export(
        ExportTraceServiceRequest request,
        StreamObserver<ExportTraceServiceResponse> responseObserver) {
      long arrived = epochNanos();
      awaitResponseDelay();
      record(request, GRPC, arrived);
      responseObserver.onNext(ExportTraceServiceResponse.getDefaultInstance());
      responseObserver.onCompleted();
    }
  }
}
