package io.linkcorrelator.streams;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DeterministicIdsTest {

  @Test
  void theSameWindowAlwaysGetsTheSameIdsAndAnyDifferenceChangesThem() {
    DeterministicIds.WindowIds ids =
        DeterministicIds.forWindow("app", "key", "TUMBLING", 0, 60_000);

    assertThat(DeterministicIds.forWindow("app", "key", "TUMBLING", 0, 60_000).traceId())
        .isEqualTo(ids.traceId());
    assertThat(ids.traceId()).hasSize(32).isNotEqualTo("0".repeat(32));
    assertThat(ids.spanId()).hasSize(16);
    assertThat(ids.chunkSpanId(1))
        .hasSize(16)
        .isNotEqualTo(ids.spanId())
        .isNotEqualTo(ids.chunkSpanId(2));
    assertThat(DeterministicIds.forWindow("app2", "key", "TUMBLING", 0, 60_000).traceId())
        .isNotEqualTo(ids.traceId());
    assertThat(DeterministicIds.forWindow("app", "key2", "TUMBLING", 0, 60_000).traceId())
        .isNotEqualTo(ids.traceId());
    assertThat(DeterministicIds.forWindow("app", "key", "HOPPING", 0, 60_000).traceId())
        .isNotEqualTo(ids.traceId());
    assertThat(DeterministicIds.forWindow("app", "key", "TUMBLING", 1, 60_000).traceId())
        .isNotEqualTo(ids.traceId());
    // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
    assertThat(DeterministicIds.forWindow("ab", "c", "T", 0, 1).traceId())
        .isNotEqualTo(DeterministicIds.forWindow("a", "bc", "T", 0, 1).traceId());
  }

  @Test
  void theGeneratorAnswersRequestedIdsOnlyInsideWithIds() {
    var generator = DeterministicIds.idGenerator();
    String inside =
        DeterministicIds.withIds(
            "0af7651916cd43dd8448eb211c80319c",
            "b7ad6b7169203331",
            () -> generator.generateTraceId() + "/" + generator.generateSpanId());
    assertThat(inside).isEqualTo("0af7651916cd43dd8448eb211c80319c/b7ad6b7169203331");
    assertThat(generator.generateSpanId()).isNotEqualTo("b7ad6b7169203331").hasSize(16);
  }
}
