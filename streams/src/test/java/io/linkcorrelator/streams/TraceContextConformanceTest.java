package io.linkcorrelator.streams;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.linkcorrelator.streams.propagation.Sampling;
import io.linkcorrelator.streams.propagation.TraceContext;
import io.linkcorrelator.streams.propagation.TraceFormats;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every row of the conformance table — real header sets from each tracer's own test suite — runs
 * through the extraction code the topology uses, with the row's extraction order, and yields the
 * row's trace id, span id, sampled flag and also-linked contexts.
 *
 * <p>The table is the repository's copy, {@code conformance/trace-headers.tsv} on the test class
 * path (its columns and the policy behind its answers: {@code docs/trace-context-policy.md}). Any
 * other table in the same format runs with {@code ./mvnw -pl streams -am test
 * -Dtest=TraceContextConformanceTest -Dconformance.vectors=PATH} (a relative path is taken from the
 * repository root). A missing or empty table fails.
 */
class TraceContextConformanceTest {

  private static final String BUNDLED_TABLE = "conformance/trace-headers.tsv";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> COLUMNS =
      List.of(
          "tracer",
          "source",
          "case_name",
          "extract_order",
          "headers",
          "trace_id",
          "span_id",
          "sampled",
          "also_linked",
          "differs_from_source",
          "notes");

  record Row(Map<String, String> cells) {
    String get(String column) {
      return cells.getOrDefault(column, "");
    }
  }

  static Stream<Arguments> rows() throws IOException {
    String source = System.getProperty("conformance.vectors", "");
    List<String> lines = source.isBlank() ? bundledTable() : Files.readAllLines(table(source));
    if (lines.isEmpty()
        || !Arrays.asList(lines.get(0).split("\t", -1)).containsAll(COLUMNS.subList(0, 9))) {
      throw new IllegalStateException(
          "conformance table has no header line with the columns " + COLUMNS);
    }
    List<String> header = List.of(lines.get(0).split("\t", -1));
    List<Arguments> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      if (line.isBlank()) {
        continue;
      }
      String[] values = line.split("\t", -1);
      Map<String, String> cells = new LinkedHashMap<>();
      for (int i = 0; i < header.size() && i < values.length; i++) {
        cells.put(header.get(i), values[i]);
      }
      Row row = new Row(cells);
      rows.add(Arguments.of(Named.of(row.get("tracer") + ": " + row.get("case_name"), row)));
    }
    if (rows.isEmpty()) {
      throw new IllegalStateException("the conformance table has no rows");
    }
    return rows.stream();
  }

  private static List<String> bundledTable() throws IOException {
    try (InputStream in =
        TraceContextConformanceTest.class.getResourceAsStream("/" + BUNDLED_TABLE)) {
      if (in == null) {
        throw new IllegalStateException(
            "conformance table not found on the test class path: " + BUNDLED_TABLE);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
  }

  private static Path table(String property) {
    Path path = Path.of(property);
    if (!path.isAbsolute()) {
      String root = System.getProperty("repository.root");
      path = (root == null || root.isBlank() ? Path.of("") : Path.of(root)).resolve(path);
    }
    if (!Files.isRegularFile(path)) {
      throw new IllegalStateException(
          "conformance table not found: " + path.toAbsolutePath().normalize());
    }
    return path;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void extractsTheContextTheTableExpects(Row row) throws IOException {
    Map<String, String> headerSet =
        JSON.readValue(row.get("headers"), new TypeReference<LinkedHashMap<String, String>>() {});
    RecordHeaders headers = new RecordHeaders();
    headerSet.forEach((name, value) -> headers.add(name, value.getBytes(StandardCharsets.UTF_8)));

    List<TraceContext> contexts = TraceFormats.extractor(row.get("extract_order")).extract(headers);

    if (row.get("trace_id").equals("INVALID")) {
      assertThat(contexts).as("no valid context").isEmpty();
      assertThat(row.get("sampled")).isEqualTo("unknown");
      return;
    }
    assertThat(contexts).as("a primary context").isNotEmpty();
    TraceContext primary = contexts.get(0);
    assertThat(primary.ids().traceIdHex()).as("trace id").isEqualTo(row.get("trace_id"));
    assertThat(primary.ids().spanIdHex()).as("span id").isEqualTo(row.get("span_id"));
    assertThat(sampled(primary.sampling())).as("sampled").isEqualTo(row.get("sampled"));
    List<String> alsoLinked =
        contexts.subList(1, contexts.size()).stream()
            .map(context -> context.ids().traceIdHex() + "/" + context.ids().spanIdHex())
            .toList();
    List<String> expected =
        row.get("also_linked").isBlank() ? List.of() : List.of(row.get("also_linked").split(","));
    assertThat(alsoLinked).as("also linked").isEqualTo(expected);
  }

  private static String sampled(Sampling sampling) {
    return switch (sampling) {
      case SAMPLED -> "true";
      case NOT_SAMPLED -> "false";
      case UNKNOWN -> "unknown";
    };
  }
}
