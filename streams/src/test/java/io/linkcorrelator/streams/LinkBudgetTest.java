package io.linkcorrelator.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.streams.propagation.TraceStates;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.sdk.trace.data.LinkData;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class LinkBudgetTest {

  private static LinkData link(String traceState, Attributes attributes) {
    return LinkData.create(
        SpanContext.createFromRemoteParent(
            "0af7651916cd43dd8448eb211c80319c",
            "b7ad6b7169203331",
            TraceFlags.getSampled(),
            TraceStates.decode(traceState)),
        attributes);
  }

  @Test
  void computesExactlyTheLengthOfTheJsonTheAgentBuilds() {
    List<LinkData> links =
        List.of(
            link("", Attributes.empty()),
            link("dd=s:1;o:rum", Attributes.empty()),
            link(
                "",
                Attributes.builder()
                    .put("messaging.destination.name", "ordérs-\"quoted\"-\u00e9\u4e2d")
                    .put("messaging.destination.partition.id", "3")
                    .put("messaging.kafka.offset", 1234567L)
                    .build()));
    for (LinkData link : links) {
      int expected = DatadogLinksJson.of(List.of(link)).getBytes(StandardCharsets.UTF_8).length - 2;
      assertThat(
              LinkBudget.jsonLength(
                  TraceStates.encode(link.getSpanContext().getTraceState()), link.getAttributes()))
          .as(DatadogLinksJson.of(List.of(link)))
          .isEqualTo(expected);
    }
  }

  @Test
  void takesLinksUntilEitherBudgetIsFull() {
    LinkBudget byCount = new LinkBudget(3, 25_000);
    assertThat(byCount.tryTake(100)).isTrue();
    assertThat(byCount.tryTake(100)).isTrue();
    assertThat(byCount.tryTake(100)).isTrue();
    assertThat(byCount.tryTake(100)).isFalse();

    LinkBudget bySize = new LinkBudget(128, 2 + 100 + 1 + 100);
    assertThat(bySize.tryTake(100)).isTrue();
    assertThat(bySize.tryTake(100)).isTrue();
    assertThat(bySize.jsonChars()).isEqualTo(203);
    assertThat(bySize.tryTake(1)).isFalse();
    bySize.reset();
    assertThat(bySize.tryTake(5_000)).as("a lone oversized link still gets a span").isTrue();
    assertThat(bySize.tryTake(1)).isFalse();
  }
}
