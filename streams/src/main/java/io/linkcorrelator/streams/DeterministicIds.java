package io.linkcorrelator.streams;

import io.opentelemetry.sdk.trace.IdGenerator;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Supplier;

/**
 * Trace and span ids derived from what a window is — (application id, group key, window type,
 * start, end) — so that the same input replayed, after a crash or under exactly-once, gives the
 * same aggregate span and chunk span ids and a backend sees one span, not two.
 *
 * <p>The OpenTelemetry API cannot choose a span's ids; the SDK's {@link IdGenerator} does. Install
 * {@link #idGenerator()} in the tracer provider ({@code
 * SdkTracerProvider.builder().setIdGenerator(DeterministicIds.idGenerator())}; the application's
 * {@code main} does this). It returns the ids the correlator asks for while it starts a span on the
 * current thread, and random ids otherwise. Without it spans get random ids and the correlator logs
 * a warning once.
 */
public final class DeterministicIds {

  private static final HexFormat HEX = HexFormat.of();
  private static final Generator GENERATOR = new Generator();

  private DeterministicIds() {}

  /**
   * The id generator to install in the tracer provider: deterministic ids for the correlator's
   * spans, random ids (OpenTelemetry's default generator) for every other span.
   *
   * @return the shared generator
   */
  public static IdGenerator idGenerator() {
    return GENERATOR;
  }

  /**
   * Ids of one window's spans.
   *
   * @param traceId the aggregate span's trace id, 32 hex digits
   * @param spanId the aggregate span's span id, 16 hex digits
   * @param seed what the chunk span ids are derived from
   */
  public record WindowIds(String traceId, String spanId, byte[] seed) {

    /** Span id of the {@code index}-th chunk span (1-based). */
    String chunkSpanId(int index) {
      byte[] digest = sha256(seed, ByteBuffer.allocate(4).putInt(index).array());
      return nonZeroHex(digest, 0, 8);
    }
  }

  /**
   * The ids of a window's spans: a function of the window alone, so a replay after a crash exports
   * the same spans again rather than new ones.
   *
   * @param applicationId the Kafka Streams application id
   * @param groupKey the window's group key, as in {@code correlator.group_key}
   * @param windowType the window type's name, e.g. {@code TUMBLING}
   * @param start window start, epoch milliseconds
   * @param end window end (exclusive), epoch milliseconds
   * @return the ids
   */
  public static WindowIds forWindow(
      String applicationId, String groupKey, String windowType, long start, long end) {
    byte[] app = applicationId.getBytes(StandardCharsets.UTF_8);
    byte[] key = groupKey.getBytes(StandardCharsets.UTF_8);
    byte[] type = windowType.getBytes(StandardCharsets.UTF_8);
    ByteBuffer seed = ByteBuffer.allocate(12 + app.length + key.length + type.length + 16);
    seed.putInt(app.length).put(app).putInt(key.length).put(key).putInt(type.length).put(type);
    seed.putLong(start).putLong(end);
    byte[] digest = sha256(seed.array());
    return new WindowIds(nonZeroHex(digest, 0, 16), nonZeroHex(digest, 16, 8), digest);
  }

  /** Runs {@code start} with the generator answering these ids on this thread. */
  static <T> T withIds(String traceId, String spanId, Supplier<T> start) {
    String[] next = GENERATOR.next.get();
    next[0] = traceId;
    next[1] = spanId;
    try {
      return start.get();
    } finally {
      next[0] = null;
      next[1] = null;
    }
  }

  private static String nonZeroHex(byte[] digest, int from, int length) {
    boolean zero = true;
    for (int i = from; i < from + length; i++) {
      zero &= digest[i] == 0;
    }
    if (zero) {
      digest[from + length - 1] = 1; // all-zero ids are invalid; 2^-64 odds, but never emit one
    }
    return HEX.formatHex(digest, from, from + length);
  }

  private static byte[] sha256(byte[]... parts) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (byte[] part : parts) {
        digest.update(part);
      }
      return digest.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  private static final class Generator implements IdGenerator {
    private final IdGenerator random = IdGenerator.random();
    private final ThreadLocal<String[]> next = ThreadLocal.withInitial(() -> new String[2]);

    @Override
    public String generateSpanId() {
      String[] ids = next.get();
      String id = ids[1];
      if (id == null) {
        return random.generateSpanId();
      }
      ids[1] = null;
      return id;
    }

    @Override
    public String generateTraceId() {
      String[] ids = next.get();
      String id = ids[0];
      if (id == null) {
        return random.generateTraceId();
      }
      ids[0] = null;
      return id;
    }
  }
}
