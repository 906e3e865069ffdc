#!/usr/bin/env bash
# Builds what a release would upload, signed with a throwaway key, and checks that every published
# module has everything Maven Central requires: the POM with its metadata, the jar naming its module,
# the sources and Javadoc jars, and a valid signature for each file. Uploads nothing and needs no
# credentials. Usage: scripts/release-check.sh [extra Maven arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "release-check: $*" >&2; }
fail() {
  say "FAILED: $*"
  exit 1
}

for tool in mvn gpg unzip; do
  command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is needed and not on the PATH"
done

GNUPGHOME="$(mktemp -d)"
export GNUPGHOME
trap 'rm -rf "$GNUPGHOME"' EXIT
gpg --batch --quiet --passphrase '' \
  --quick-gen-key 'Orchestra release check <release-check@example.invalid>' ed25519 sign 1d \
  2>/dev/null

say "building the release profile (tests skipped), signed with a throwaway key"
mvn -B -q -Prelease -DskipTests "$@" verify

version="$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' pom.xml | head -n 1)"
[ -n "$version" ] || fail "cannot read the version from pom.xml"

# The published modules: every module of the build that does not set orchestra.publish.skip, the
# parent POM (their parent) and the BOM.
published=()
while read -r module; do
  grep -q '<orchestra.publish.skip>true</orchestra.publish.skip>' "$module/pom.xml" ||
    published+=("$module")
done < <(sed -n 's:^ *<module>\(.*\)</module>$:\1:p' pom.xml)

check_signed() {
  local file="$1"
  [ -s "$file" ] || fail "missing $file"
  [ -s "$file.asc" ] || fail "missing signature $file.asc"
  gpg --batch --quiet --verify "$file.asc" "$file" 2>/dev/null || fail "bad signature on $file"
}

check_pom_metadata() {
  local pom="$1" element
  for element in name description url licenses developers scm; do
    grep -q "<$element>" "$pom" || fail "$pom has no <$element>, which Maven Central requires"
  done
}

check_pom_metadata pom.xml
check_signed "target/orchestra-parent-$version.pom"
for module in "${published[@]}"; do
  base="$module/target/$module-$version"
  if grep -q '<packaging>pom</packaging>' "$module/pom.xml"; then
    check_pom_metadata "$module/pom.xml"
    check_signed "$base.pom"
    continue
  fi
  check_signed "$base.pom"
  check_signed "$base.jar"
  check_signed "$base-sources.jar"
  check_signed "$base-javadoc.jar"
  # (Read whole before grep: grep -q would close the pipe early, which pipefail reports.)
  manifest="$(unzip -p "$base.jar" META-INF/MANIFEST.MF)"
  contents="$(unzip -l "$base.jar")"
  grep -q '^Automatic-Module-Name: dev\.orchestra' <<<"$manifest" ||
    grep -q ' module-info.class$' <<<"$contents" ||
    fail "$base.jar names no module (neither module-info.class nor Automatic-Module-Name)"
  listing="$(unzip -l "$base-javadoc.jar")"
  grep -q 'index.html' <<<"$listing" || fail "$base-javadoc.jar holds no Javadoc"
  grep -q "<artifactId>$module</artifactId>" orchestra-bom/pom.xml ||
    fail "orchestra-bom does not list the published module $module"
  say "ok: $module (pom, jar, sources, javadoc, signatures)"
done

# And the other way round: the BOM lists nothing that is not published.
while read -r listed; do
  [[ " ${published[*]} " == *" $listed "* ]] ||
    fail "orchestra-bom lists $listed, which is not published"
done < <(sed -n 's:^ *<artifactId>\(orchestra-[a-z0-9-]*\)</artifactId>$:\1:p' orchestra-bom/pom.xml |
  grep -v '^orchestra-bom$')

# The jars on the module path: a small application module finds the local driver through
# ServiceLoader and runs a task, as an application that uses the module path would.
# (Maven 3.8 writes colour resets even in batch mode: strip them.)
repo="$(mvn -B -q help:evaluate -Dexpression=settings.localRepository -DforceStdout |
  sed 's/\x1b\[[0-9;]*m//g')"
slf4j_version="$(sed -n 's:^ *<slf4j.version>\(.*\)</slf4j.version>$:\1:p' pom.xml)"
slf4j="$repo/org/slf4j/slf4j-api/$slf4j_version/slf4j-api-$slf4j_version.jar"
[ -s "$slf4j" ] || fail "cannot find slf4j-api $slf4j_version at $slf4j"
jna_version="$(sed -n 's:^ *<jna.version>\(.*\)</jna.version>$:\1:p' pom.xml)"
jna="$repo/net/java/dev/jna/jna/$jna_version/jna-$jna_version.jar"
[ -s "$jna" ] || fail "cannot find jna $jna_version at $jna"
app="$(mktemp -d)"
trap 'rm -rf "$GNUPGHOME" "$app"' EXIT
mkdir -p "$app/src/check" "$app/out"
cat >"$app/src/module-info.java" <<'JAVA'
module orchestra.modulecheck {
  requires dev.orchestra;
}
JAVA
cat >"$app/src/check/Main.java" <<'JAVA'
package check;

import dev.orchestra.Container;
import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.Task;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

public class Main {
  public static void main(String[] args) {
    try (Driver driver = Orchestra.open("local", "release-check-" + ProcessHandle.current().pid())) {
      Container c = driver.runContainer(
          Task.builder().id("hello").command("echo", "hello from the module path").build());
      c.await(Duration.ofMinutes(1));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      c.logs(out, new ByteArrayOutputStream());
      System.out.print(Orchestra.drivers() + " " + out.toString(StandardCharsets.UTF_8));
    }
  }
}
JAVA
api="orchestra-api/target/orchestra-api-$version.jar"
local_jar="orchestra-local/target/orchestra-local-$version.jar"
javac -d "$app/out" --module-path "$api:$slf4j" $(find "$app/src" -name '*.java')
answer="$(java --module-path "$api:$local_jar:$jna:$slf4j:$app/out" \
  -m orchestra.modulecheck/check.Main 2>&1)" || fail "the module-path check failed: $answer"
[[ "$answer" == *"[local] hello from the module path"* ]] ||
  fail "on the module path, expected the local driver to run a task; got: $answer"
say "ok: on the module path, dev.orchestra finds dev.orchestra.local and runs a task"

say "every published module is complete: ${published[*]} and orchestra-parent"
