# readme_blocks.sh - sourced by tests and benches that run a README's shell
# commands exactly as written (issue 14: an emitted package's README).
#
#   readme_sh_blocks README DIR   writes each ```sh block of README, in order,
#                                 to DIR/block1.sh, DIR/block2.sh, ... (after
#                                 removing DIR/block*.sh); prints their count
#
# Leaves out: running them (the caller chooses the directory, the variables
# and which blocks), other fence languages.
readme_sh_blocks() {
  rm -f "$2"/block*.sh
  awk '/^```sh$/ {on = 1; n++; next} /^```$/ {on = 0} on {print > (dir "/block" n ".sh")}' dir="$2" "$1"
  ls "$2"/block*.sh 2>/dev/null | wc -l
}
