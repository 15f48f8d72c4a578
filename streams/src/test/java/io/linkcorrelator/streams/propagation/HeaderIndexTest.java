package io.linkcorrelator.streams.propagation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class HeaderIndexTest {

  @Test
  void readsEveryNameAsTheKafkaHeadersGetterDoes() {
    RecordHeaders headers = new RecordHeaders();
    headers.add("TraceParent", bytes("  00-first  "));
    headers.add("traceparent", bytes("\t00-last "));
    headers.add("X-B3-TraceId", bytes("abc"));
    headers.add("x-b3-sampled", null);
    headers.add("X-DATADOG-TAGS", new byte[] {(byte) 0xC3, (byte) 0x28});
    headers.add("baggage", bytes("k=v"));
    headers.add("uber-trace-id", bytes(""));
    List<String> names = new ArrayList<>(HeaderIndex.NAMES);
    names.addAll(List.of("X-B3-TRACEID", "baggage", "unknown", "b3"));
    HeaderIndex index = HeaderIndex.of(headers);
    for (String name : names) {
      assertThat(HeaderIndex.GETTER.get(index, name))
          .as(name)
          .isEqualTo(KafkaHeadersGetter.INSTANCE.get(headers, name));
    }
    assertThat(HeaderIndex.GETTER.get(index, "traceparent")).isEqualTo("00-last");
    assertThat(HeaderIndex.GETTER.get(index, "x-b3-sampled")).isEmpty();
    assertThat(HeaderIndex.GETTER.get(HeaderIndex.of(null), "traceparent")).isNull();
  }

  private static byte[] bytes(String value) {
    return value.getBytes(StandardCharsets.UTF_8);
  }
}
