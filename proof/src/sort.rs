//! External sorting of (key, row) records in bounded memory: records gather in memory up to a
//! budget, are sorted and written to an anonymous temporary file (a run), and the runs are
//! merged as they are read back. At most [`MAX_RUNS`] runs are open at once: more are first
//! merged into one.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// A record: the sort key, then the row's bytes (records sort by key, then by row).
pub type Record = (Vec<u8>, Vec<u8>);

/// Most runs merged at once.
pub const MAX_RUNS: usize = 64;

/// Memory a record takes besides its bytes (two vectors and the tuple).
const OVERHEAD: usize = 64;

/// Gathers records and sorts them.
pub struct Sorter {
    budget: usize,
    used: usize,
    items: Vec<Record>,
    runs: Vec<File>,
    dir: Option<PathBuf>,
}

impl Sorter {
    /// A sorter that keeps at most about `budget` bytes of records in memory, spilling runs to
    /// `dir` (the system's temporary folder when `None`).
    pub fn new(budget: usize, dir: Option<PathBuf>) -> Sorter {
        Sorter { budget: budget.max(64 * 1024), used: 0, items: Vec::new(), runs: Vec::new(), dir }
    }

    /// Adds a record.
    pub fn push(&mut self, key: Vec<u8>, row: Vec<u8>) -> std::io::Result<()> {
        self.used += key.capacity() + row.capacity() + OVERHEAD;
        self.items.push((key, row));
        if self.used >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// Records pushed so far, in memory or in runs.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.runs.is_empty()
    }

    fn spill(&mut self) -> std::io::Result<()> {
        if self.items.is_empty() {
            return Ok(());
        }
        self.items.sort_unstable();
        let items = std::mem::take(&mut self.items);
        self.used = 0;
        let run = write_run(self.temp()?, items.into_iter().map(Ok))?;
        self.runs.push(run);
        if self.runs.len() >= MAX_RUNS {
            let runs = std::mem::take(&mut self.runs);
            let merged = Merge::new(runs)?;
            let run = write_run(self.temp()?, merged)?;
            self.runs.push(run);
        }
        Ok(())
    }

    fn temp(&self) -> std::io::Result<File> {
        match &self.dir {
            Some(d) => tempfile::tempfile_in(d),
            None => tempfile::tempfile(),
        }
    }

    /// The records in order.
    pub fn finish(mut self) -> std::io::Result<Sorted> {
        if self.runs.is_empty() {
            self.items.sort_unstable();
            let items = std::mem::take(&mut self.items);
            return Sorted { source: Source::Memory(items.into_iter()), next: None }.primed();
        }
        self.spill()?;
        let merge = Merge::new(std::mem::take(&mut self.runs))?;
        Sorted { source: Source::Runs(merge), next: None }.primed()
    }
}

fn write_run(
    mut file: File,
    records: impl Iterator<Item = std::io::Result<Record>>,
) -> std::io::Result<File> {
    {
        let mut out = BufWriter::with_capacity(256 * 1024, &mut file);
        for record in records {
            let (key, row) = record?;
            out.write_all(&(key.len() as u32).to_le_bytes())?;
            out.write_all(&key)?;
            out.write_all(&(row.len() as u32).to_le_bytes())?;
            out.write_all(&row)?;
        }
        out.flush()?;
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(file)
}

fn read_record(input: &mut impl Read) -> std::io::Result<Option<Record>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut key = vec![0; u32::from_le_bytes(len) as usize];
    input.read_exact(&mut key)?;
    input.read_exact(&mut len)?;
    let mut row = vec![0; u32::from_le_bytes(len) as usize];
    input.read_exact(&mut row)?;
    Ok(Some((key, row)))
}

/// A k-way merge of sorted runs.
struct Merge {
    readers: Vec<BufReader<File>>,
    heap: BinaryHeap<Reverse<(Record, usize)>>,
}

impl Merge {
    fn new(runs: Vec<File>) -> std::io::Result<Merge> {
        let mut readers: Vec<BufReader<File>> =
            runs.into_iter().map(|f| BufReader::with_capacity(64 * 1024, f)).collect();
        let mut heap = BinaryHeap::with_capacity(readers.len());
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(record) = read_record(r)? {
                heap.push(Reverse((record, i)));
            }
        }
        Ok(Merge { readers, heap })
    }
}

impl Iterator for Merge {
    type Item = std::io::Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        let Reverse((record, i)) = self.heap.pop()?;
        match read_record(&mut self.readers[i]) {
            Ok(Some(next)) => self.heap.push(Reverse((next, i))),
            Ok(None) => {}
            Err(e) => return Some(Err(e)),
        }
        Some(Ok(record))
    }
}

enum Source {
    Memory(std::vec::IntoIter<Record>),
    Runs(Merge),
}

/// Sorted records, with a look at the next one.
pub struct Sorted {
    source: Source,
    next: Option<Record>,
}

impl Sorted {
    fn primed(mut self) -> std::io::Result<Sorted> {
        self.next = self.pull()?;
        Ok(self)
    }

    fn pull(&mut self) -> std::io::Result<Option<Record>> {
        match &mut self.source {
            Source::Memory(items) => Ok(items.next()),
            Source::Runs(merge) => merge.next().transpose(),
        }
    }

    /// The key of the next record.
    pub fn peek_key(&self) -> Option<&[u8]> {
        self.next.as_ref().map(|(k, _)| k.as_slice())
    }

    /// The next record.
    pub fn take(&mut self) -> std::io::Result<Option<Record>> {
        let pulled = self.pull()?;
        Ok(std::mem::replace(&mut self.next, pulled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_in_order_from_memory_and_from_many_runs() {
        for budget in [1 << 30, 1] {
            let mut sorter = Sorter::new(budget, None);
            let mut expected = Vec::new();
            // 100,000 records of about 90 bytes: over 64 runs at the smallest budget (64 KiB).
            for i in 0..100_000u64 {
                let key = ((i * 7919) % 50_000).to_be_bytes().to_vec();
                let row = format!("row {i}").into_bytes();
                expected.push((key.clone(), row.clone()));
                sorter.push(key, row).unwrap();
            }
            expected.sort();
            let mut sorted = sorter.finish().unwrap();
            let mut got = Vec::new();
            while let Some(r) = sorted.take().unwrap() {
                got.push(r);
            }
            assert_eq!(got, expected, "budget {budget}");
        }
    }
}
