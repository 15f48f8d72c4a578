package io.linkcorrelator.streams.propagation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/**
 * A version-00 {@code traceparent} is read from the header's bytes: it must accept and reject
 * exactly what reading the header as a string does ({@link KafkaHeadersGetter}, the general path).
 */
class W3cFormatTest {

  private static final String VALID = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  private static final String ALPHABET = "0123456789abcdefABCDEF-0 gx\u00e9\u2013";

  @Test
  void readingTheHeaderBytesAgreesWithReadingTheHeaderAsAString() {
    Random random = new Random(42);
    int accepted = 0;
    for (int i = 0; i < 20_000; i++) {
      StringBuilder value = new StringBuilder(VALID);
      int changes = random.nextInt(4);
      for (int c = 0; c < changes; c++) {
        int at = random.nextInt(value.length());
        value.setCharAt(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
      }
      RecordHeaders headers = new RecordHeaders();
      headers.add("traceparent", value.toString().getBytes(StandardCharsets.UTF_8));
      if (random.nextBoolean()) {
        headers.add("tracestate", "vendor=value".getBytes(StandardCharsets.UTF_8));
      }
      TraceContext fromBytes = W3cFormat.INSTANCE.read(HeaderIndex.of(headers), HeaderIndex.GETTER);
      TraceContext fromString = W3cFormat.INSTANCE.read(headers, KafkaHeadersGetter.INSTANCE);
      assertThat(fromBytes).as("traceparent '%s'", value).isEqualTo(fromString);
      if (fromString != null) {
        accepted++;
      }
    }
    assertThat(accepted).as("valid values among the generated").isGreaterThan(5_000);
  }
}
