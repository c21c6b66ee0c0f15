/*
 * interactive_edit.c - the terminal side of `cprof pprof`'s shell: libedit
 * line editing (emacs keys), history of the session, and tab completion of
 * commands, option names, option values (choices, booleans, the profile's
 * sample types) and function names, as pprof's completer offers them.
 *
 * It reads lines and hands each to interactive.c, which owns the options,
 * the commands and what a line does; it prints nothing but the prompt and
 * the list of matches.
 */
#include <histedit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/interactive.h"

/* The candidates for the word before the cursor, as pprof's completer picks them. */
struct cands {
	const char **s;
	size_t n, cap;
	bool substring; /* function names: matched anywhere, as functionCompleter does */
};

static void cand_add(struct cands *c, const char *s)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->s[i], s) == 0)
			return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		const char **n = realloc(c->s, cap * sizeof(*n));
		if (!n)
			return;
		c->s = n;
		c->cap = cap;
	}
	c->s[c->n++] = s;
}

/* Commands and option names starting with word (matchVariableOrCommand). */
static void complete_names(struct shell *sh, const char *word, struct cands *c, bool shell_words)
{
	size_t n = strlen(word);
	for (size_t i = 0; i < SHELL_NCMD; i++)
		if (sh->have[i] && strncmp(cprof__shell_cmds[i].name, word, n) == 0)
			cand_add(c, cprof__shell_cmds[i].name);
	for (size_t i = 0; i < SHELL_NOPT; i++) {
		if (strncmp(cprof__shell_opts[i].name, word, n) == 0)
			cand_add(c, cprof__shell_opts[i].name);
		for (const char *const *ch = cprof__shell_opts[i].choices; ch && *ch; ch++)
			if (strncmp(*ch, word, n) == 0)
				cand_add(c, *ch);
	}
	if (!shell_words)
		return;
	static const char *const words[] = {"help", "options", "quit", "exit"};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strncmp(words[i], word, n) == 0)
			cand_add(c, words[i]);
	for (size_t i = 0; i < sh->prof->nsample_type; i++)
		if (strncmp(cprof__shell_stype(sh->prof, i), word, n) == 0)
			cand_add(c, cprof__shell_stype(sh->prof, i));
}

static unsigned char el_complete(EditLine *el, int ch)
{
	struct shell *sh;
	el_get(el, EL_CLIENTDATA, &sh);
	const LineInfo *li = el_line(el);
	size_t cur = (size_t)(li->cursor - li->buffer);
	char *line = strndup(li->buffer, cur);
	if (!line)
		return CC_ERROR;
	size_t ws = cur;
	while (ws > 0 && !strchr(" \t", line[ws - 1]))
		ws--;
	const char *word = line + ws;
	char first[256] = "";
	sscanf(line, "%255s", first);
	bool at_first = true;
	for (size_t i = 0; i < ws; i++)
		if (!strchr(" \t", line[i]))
			at_first = false;

	struct cands c = {0};
	const char *prefix = "";  /* kept in front of the completed word */
	const char *eq = strchr(word, '=');
	if (at_first && eq) {
		/* option=value: sample types, choices, booleans */
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)(eq - word), word);
		int i = cprof__shell_find_opt(name);
		const char *val = eq + 1;
		size_t n = strlen(val);
		static const char *const bools[] = {"true", "false"};
		if (i >= 0 && strcmp(name, "sample_index") == 0) {
			for (size_t k = 0; k < sh->prof->nsample_type; k++)
				if (strncmp(cprof__shell_stype(sh->prof, k), val, n) == 0)
					cand_add(&c, cprof__shell_stype(sh->prof, k));
		} else if (i >= 0 && cprof__shell_opts[i].choices) {
			for (const char *const *co = cprof__shell_opts[i].choices; *co; co++)
				if (strncmp(*co, val, n) == 0)
					cand_add(&c, *co);
		} else if (i >= 0 && cprof__shell_opts[i].type == O_BOOL) {
			for (size_t k = 0; k < 2; k++)
				if (strncmp(bools[k], val, n) == 0)
					cand_add(&c, bools[k]);
		}
		word = val;
	} else if (at_first) {
		complete_names(sh, word, &c, true);
	} else if (strcmp(first, "help") == 0) {
		complete_names(sh, word, &c, false);
	} else if (cprof__shell_find_cmd(sh, first) && strcmp(first, "tags") != 0) {
		/* function names containing the word; "-re" completes an ignore */
		if (word[0] == '-' || word[0] == '>') {
			prefix = word[0] == '-' ? "-" : ">";
			word++;
		}
		if (prefix[0] != '>') {
			c.substring = true;
			for (size_t i = 0; i < sh->nfns; i++)
				if (strstr(sh->fns[i], word))
					cand_add(&c, sh->fns[i]);
		}
	}

	unsigned char rc = CC_ERROR;
	if (c.n == 1) {
		el_deletestr(el, (int)strlen(word));
		el_insertstr(el, c.s[0]);
		if (at_first && !eq && cprof__shell_find_cmd(sh, c.s[0]))
			el_insertstr(el, " ");
		rc = CC_REFRESH;
	} else if (c.n > 1) {
		/* The longest common prefix of the matches that extend the word. */
		size_t wl = strlen(word), lcp = 0;
		bool all_prefixed = true;
		for (size_t i = 0; i < c.n; i++)
			if (strncmp(c.s[i], word, wl) != 0)
				all_prefixed = false;
		if (all_prefixed) {
			lcp = strlen(c.s[0]);
			for (size_t i = 1; i < c.n; i++) {
				size_t k = 0;
				while (k < lcp && c.s[i][k] == c.s[0][k])
					k++;
				lcp = k;
			}
		}
		if (lcp > wl) {
			char *ext = strndup(c.s[0] + wl, lcp - wl);
			if (ext)
				el_insertstr(el, ext);
			free(ext);
			rc = CC_REFRESH;
		} else {
			qsort(c.s, c.n, sizeof(c.s[0]), cprof__shell_cmp_str);
			FILE *out;
			el_get(el, EL_GETFP, 1, &out);
			fputc('\n', out);
			size_t shown = c.n > 200 ? 200 : c.n;
			for (size_t i = 0; i < shown; i++)
				fprintf(out, "%s\n", c.s[i]);
			if (shown < c.n)
				fprintf(out, "... and %zu more\n", c.n - shown);
			fflush(out);
			rc = CC_REDISPLAY;
		}
	}
	free(c.s);
	free(line);
	return rc;
}

static char *el_prompt(EditLine *el)
{
	return (char *)"(pprof) ";
}

int cprof__shell_edit(struct shell *sh)
{
	EditLine *el = el_init("pprof", stdin, stderr, stderr);
	History *hist = history_init();
	if (!el || !hist) {
		if (el)
			el_end(el);
		if (hist)
			history_end(hist);
		return -1;
	}
	HistEvent ev;
	history(hist, &ev, H_SETSIZE, 1000);
	history(hist, &ev, H_SETUNIQUE, 1);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_SIGNAL, 1);
	el_set(el, EL_PROMPT, el_prompt);
	el_set(el, EL_HIST, history, hist);
	el_set(el, EL_CLIENTDATA, sh);
	/* el_set's EL_ADDFN leaks the wide copies of its strings; el_wset keeps ours. */
	el_wset(el, EL_ADDFN, L"pprof-complete", L"complete commands, options and functions",
		el_complete);
	el_set(el, EL_BIND, "^I", "pprof-complete", NULL);
	el_source(el, NULL);
	for (;;) {
		int count;
		/*
		 * libedit as built here writes the prompt while the terminal is
		 * still in cooked mode and switches to its raw mode only when it
		 * reads the first key. A key typed in between is taken by the
		 * line discipline: echoed twice, and a ^D turned into an
		 * end-of-file mark that reads as a NUL byte once the mode
		 * changes (so it was lost). Switching first means that once the
		 * prompt shows, every key reaches the editor.
		 */
		el_set(el, EL_PREP_TERM, 1);
		const char *l = el_gets(el, &count);
		if (!l || count <= 0)
			break;
		char *line = strdup(l);
		if (!line)
			break;
		if (strspn(line, " \t\r\n") != strlen(line))
			history(hist, &ev, H_ENTER, line);
		bool quit = cprof__shell_process(sh, line);
		free(line);
		if (quit)
			break;
	}
	el_end(el);
	history(hist, &ev, H_CLEAR);
	history_end(hist);
	return 0;
}
