package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The image's Dockerfile: a non-root user, and JVM options this JVM accepts. */
class DockerfileTest {

  private static final Path DOCKERFILE =
      Path.of(System.getProperty("repository.root", "..")).resolve("Dockerfile");

  /** The Dockerfile's instructions, continuation lines joined. */
  private static List<String> instructions() throws IOException {
    String text = Files.readString(DOCKERFILE).replace("\\\n", " ");
    return Arrays.stream(text.split("\n"))
        .map(String::trim)
        .filter(line -> !line.isEmpty() && !line.startsWith("#"))
        .toList();
  }

  private static List<String> entrypoint() throws IOException {
    String json =
        instructions().stream()
            .filter(line -> line.startsWith("ENTRYPOINT "))
            .reduce((first, last) -> last)
            .orElseThrow()
            .substring("ENTRYPOINT ".length());
    return List.of(new ObjectMapper().readValue(json, String[].class));
  }

  @Test
  void theImageRunsAsANumericNonRootUser() throws IOException {
    String user =
        instructions().stream()
            .filter(line -> line.startsWith("USER "))
            .reduce((first, last) -> last)
            .orElseThrow()
            .substring("USER ".length())
            .trim();

    String uid = user.split(":")[0];
    assertThat(uid).as("numeric, so that runAsNonRoot can check it").matches("[0-9]+");
    assertThat(Integer.parseInt(uid)).isPositive();
  }

  @Test
  void theJvmExitsOnOutOfMemoryAndSizesItsHeapFromTheContainerAndAcceptsTheseOptions()
      throws Exception {
    List<String> command = entrypoint();
    List<String> options = command.subList(1, command.indexOf("-jar"));
    assertThat(command.get(0)).isEqualTo("java");
    assertThat(options)
        .contains("-XX:+ExitOnOutOfMemoryError")
        .anyMatch(option -> option.startsWith("-XX:MaxRAMPercentage="));

    List<String> java = new ArrayList<>();
    java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    java.addAll(options);
    java.add("-version");
    Process process = new ProcessBuilder(java).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
  }
}
