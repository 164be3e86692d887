#!/bin/sh
# README "Logging" lists every log tag the module uses, with its level:
# fails when a tag logged by mod_oauth2_federated.c or src/mod_oa2f_*.c
# is missing from the table, when the table lists a tag that no source
# line uses, or when a row's level does not name the level the source
# logs at (tags whose level is chosen at run time are not checked for
# it). One line per problem, naming the tag and where it is logged, so
# that tags added on other branches are easy to add at merge.
#
# The status page's fields are compared with README "Status page" by
# t/02_status.t (end to end, against what the handler serves).
set -eu
cd "$(dirname "$0")/.."
files=$(ls mod_oauth2_federated.c src/mod_oa2f_*.c)

perl -e '
    use strict;
    use warnings;
    my ($readme, @files) = @ARGV;
    my %lv = (EMERG => "emerg", ALERT => "alert", CRIT => "crit",
              ERR => "error", WARNING => "warn", NOTICE => "notice",
              INFO => "info", DEBUG => "debug");
    # tags in the sources: OA2F_LOGNO(n), possibly split over two lines
    # by the formatter; the level is the ap_log_*error call'"'"'s second
    # argument when it is an APLOG_ constant
    my (%src, %level);
    for my $f (@files) {
        open my $fh, "<", $f or die "$f: $!";
        my $text = do { local $/; <$fh> };
        while ($text =~ /OA2F_LOGNO\(\s*([0-9]+)\s*\)/g) {
            my ($n, $at) = ($1, $-[0]);
            my $line = 1 + (substr($text, 0, $at) =~ tr/\n//);
            $src{$n} //= "$f:$line";
            my $head = substr($text, 0, $at);
            if ($head =~ /.*ap_log_[a-z]*error\(\s*APLOG_MARK\s*,\s*([^,]+?)\s*,/s) {
                my $l = $1;
                $level{$n} = $l =~ /^APLOG_([A-Z]+)$/ ? $lv{$1} : undef;
            }
        }
    }
    # the README table: the first cell holds one or more tags, written
    # OA2F10005, OA2F10101-10103 (a range, "-" or an en dash) or
    # OA2F10307/10308
    open my $fh, "<", $readme or die "$readme: $!";
    my ($in, %doc, %doclevel, %docline) = (0);
    while (my $l = <$fh>) {
        if ($l =~ /^## Logging\b/) { $in = 1; next }
        if ($in && $l =~ /^## /)   { last }
        next unless $in && $l =~ /^\|\s*(OA2F[^|]*?)\s*\|\s*([^|]*?)\s*\|/;
        my ($cell, $lev) = ($1, $2);
        (my $c = $cell) =~ s/OA2F//g;
        my @nums;
        for my $part (split m{\s*[/,]\s*}, $c) {
            if ($part =~ /^(\d{5})\s*(?:-|\x{2013}|\xe2\x80\x93)\s*(\d{5})$/) {
                push @nums, $1 .. $2;
            }
            elsif ($part =~ /^(\d{5})$/) {
                push @nums, $1;
            }
            else {
                print "README.md line $.: cannot read the tag cell \"$cell\"\n";
            }
        }
        for my $n (@nums) {
            print "README.md line $.: OA2F$n is listed twice\n" if $doc{$n}++;
            $doclevel{$n} = lc $lev;
            $docline{$n} = $.;
        }
    }
    close $fh;
    my $bad = 0;
    die "README.md has no \"## Logging\" table\n" unless %doc;
    for my $n (sort keys %src) {
        if (!$doc{$n}) {
            print "README.md \"Logging\" lacks OA2F$n (logged at $src{$n}"
                . (defined $level{$n} ? ", level $level{$n}" : "") . ")\n";
            $bad = 1;
            next;
        }
        my $want = $level{$n};
        if (defined $want && $doclevel{$n} !~ /\b\Q$want\E\b/) {
            print "README.md line $docline{$n}: OA2F$n is logged at $want"
                . " ($src{$n}), the table says \"$doclevel{$n}\"\n";
            $bad = 1;
        }
    }
    for my $n (sort keys %doc) {
        next if $src{$n};
        print "README.md line $docline{$n}: OA2F$n is listed, but no source"
            . " line logs it\n";
        $bad = 1;
    }
    printf "README log table: %d tags, as in the sources\n", scalar keys %doc
        unless $bad;
    exit $bad;
' README.md $files
