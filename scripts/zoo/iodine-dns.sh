# iodine kept in DNS queries (iodine -r: no raw mode): see iodine.sh.
ZOO_IODINE_MODE=dns
# shellcheck source=iodine.sh
. "$ZOO_REPO/scripts/zoo/iodine.sh"
