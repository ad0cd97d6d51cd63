# nsswitch-edit.awk - the editing half of nsswitch-edit (which see for the rules).
# Variables: mode (add, remove, check), svc (the service, "entra"), marker (the comment put
# above a line "add" had to create), finalnl (0: the input lacks a final newline, keep it so).
# Writes the new text to stdout and exits 0 (changed), 3 (nothing to change); in check mode
# prints nothing and exits 0 (all three databases list svc) or 1.
function nf_returns(acts,    s, n, i, it, neg, st, ac, res, items) {
	# Does this run of action items return when the service says NOTFOUND?
	res = 0
	s = toupper(acts)
	gsub(/[][]/, " ", s)
	gsub(/[ \t]*=[ \t]*/, "=", s)
	n = split(s, items, /[ \t]+/)
	for (i = 1; i <= n; i++) {
		it = items[i]
		if (it == "" || index(it, "=") == 0) continue
		neg = (substr(it, 1, 1) == "!")
		if (neg) it = substr(it, 2)
		st = substr(it, 1, index(it, "=") - 1)
		ac = substr(it, index(it, "=") + 1)
		if ((neg && st != "NOTFOUND") || (!neg && st == "NOTFOUND"))
			res = (ac == "RETURN")
	}
	return res
}
function tokenize(s,    ws, e) {
	# Fills sep[1..n] (blanks before token), tok[], typ[] ("S" service, "A" action
	# items in brackets) and tail (blanks after the last token). Returns n.
	n = 0
	while (1) {
		match(s, /^[ \t]*/)
		ws = substr(s, 1, RLENGTH)
		s = substr(s, RLENGTH + 1)
		if (s == "") { tail = ws; return n }
		n++
		sep[n] = ws
		if (substr(s, 1, 1) == "[") {
			e = index(s, "]")
			if (e == 0) e = length(s)
			tok[n] = substr(s, 1, e); typ[n] = "A"
		} else {
			match(s, /^[^[ \t]+/)
			e = RLENGTH
			tok[n] = substr(s, 1, e); typ[n] = "S"
		}
		s = substr(s, e + 1)
	}
}
function join(    i, out) {
	out = ""
	for (i = 1; i <= n; i++)
		if (!(i in drop)) out = out sep[i] tok[i]
	return out tail
}
function has_service(    i) {
	for (i = 1; i <= n; i++)
		if (typ[i] == "S" && tok[i] == svc) return 1
	return 0
}
function add_to(rest,    i, k, p, acts, out) {
	n = tokenize(rest)
	if (has_service()) return rest
	changed = 1
	# a line without services ("group:"): glibc asks none, so entra becomes the only
	# one; the blank before it is ours ("remove" takes it back)
	if (n == 0) return tail " " svc
	p = 0
	for (i = 1; i <= n && !p; i++) {
		if (typ[i] != "S" || (tok[i] != "files" && tok[i] != "compat")) continue
		acts = ""
		for (k = i + 1; k <= n && typ[k] == "A"; k++) acts = acts " " tok[k]
		p = nf_returns(acts) ? i + 1 : k
	}
	for (i = 1; i <= n && !p; i++)
		if (typ[i] == "S" && tok[i] == "systemd") p = i
	if (!p) p = n + 1
	if (p == 1) {
		# first on the line: take over the blanks after the colon, so that
		# "remove" gives them back to the token that follows
		out = sep[1] svc " " tok[1]
		for (i = 2; i <= n; i++) out = out sep[i] tok[i]
		return out tail
	}
	out = ""
	for (i = 1; i <= n; i++) {
		if (i == p) out = out " " svc
		out = out sep[i] tok[i]
	}
	if (p == n + 1) out = out " " svc
	return out tail
}
function remove_from(rest,    i, k, acts, keep) {
	n = tokenize(rest)
	split("", drop)
	for (i = 1; i <= n; i++) {
		if (typ[i] != "S" || tok[i] != svc) continue
		drop[i] = 1
		changed = 1
		acts = ""
		for (k = i + 1; k <= n && typ[k] == "A"; k++) acts = acts " " tok[k]
		keep = (i > 1 && typ[i - 1] == "S" && (tok[i - 1] == "files" || tok[i - 1] == "compat") && nf_returns(acts))
		if (!keep)
			for (k = i + 1; k <= n && typ[k] == "A"; k++) drop[k] = 1
	}
	# the blanks before a dropped token go with it, except those after the colon; when
	# no service is left, the one blank "add" put before the service goes too
	if (1 in drop) {
		for (i = 2; i <= n && (i in drop); i++) ;
		if (i <= n) sep[i] = sep[1]
		else tail = substr(sep[1], 1, length(sep[1]) - 1) tail
	}
	return join()
}
function emit(s) {
	nout++
	out[nout] = s
}
BEGIN {
	split("passwd group shadow initgroups", list, " ")
	for (i in list) want[list[i]] = 1
	required["passwd"] = 1; required["group"] = 1; required["shadow"] = 1
	ok = 1
}
{
	line = $0
	if (mode == "remove" && line == marker) { pending_marker = line; next }
	if (pending_marker != "") {
		# our marker is followed by the line it explains
		held = pending_marker; pending_marker = ""
	} else held = ""
	content = line; comment = ""
	c = index(line, "#")
	if (c) { content = substr(line, 1, c - 1); comment = substr(line, c) }
	if (!match(content, /^[ \t]*[A-Za-z_]+[ \t]*:/)) {
		if (held != "") emit(held)
		emit(line); next
	}
	head = substr(content, 1, RLENGTH)
	rest = substr(content, RLENGTH + 1)
	db = head; gsub(/[ \t:]/, "", db); db = tolower(db)
	if (!(db in want)) {
		if (held != "") emit(held)
		emit(line); next
	}
	seen[db] = 1
	if (mode == "check") {
		n = tokenize(rest)
		if (!has_service()) ok = 0
		next
	}
	if (mode == "add") {
		emit(head add_to(rest) comment)
		next
	}
	new = remove_from(rest)
	if (held != "" && comment == "" && new ~ /^[ \t]*files[ \t]*$/) { changed = 1; next }  # line we added
	if (held != "") emit(held)
	emit(head new comment)
}
END {
	if (pending_marker != "") emit(pending_marker)
	if (mode == "check") {
		for (d in required) if (!(d in seen)) ok = 0
		exit(ok ? 0 : 1)
	}
	if (mode == "add") {
		for (i = 1; i <= 3; i++) {
			d = list[i]
			if (d in seen) continue
			changed = 1
			emit(marker)
			emit(sprintf("%-16s%s", d ":", "files " svc))
		}
	}
	for (i = 1; i <= nout; i++) {
		if (i < nout || finalnl) print out[i]
		else printf "%s", out[i]
	}
	exit(changed ? 0 : 3)
}
