// Draws the dashboard's charts from the figures embedded in the page (the same numbers as the table),
// with the locally bundled echarts (BdcCharts). A click on a bar of the application charts opens the list
// of those applications (drill-down).
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('stats-data').textContent);
  var echarts = window.BdcCharts.echarts;
  var drillParam = { by_district: 'tenant', by_type: 'type', by_channel: 'channel', by_period: 'period' };
  var charts = {};

  function drillUrl(figure, key) {
    var url = new URL(JSON.parse(document.getElementById('stats-drill-url').textContent), window.location.href);
    url.searchParams.set(drillParam[figure], key);
    return url.toString();
  }

  function bar(figure, items, opts) {
    opts = opts || {};
    return {
      animation: false,
      tooltip: { trigger: 'axis' },
      grid: { left: 48, right: 16, top: 24, bottom: 64 },
      xAxis: { type: 'category', data: items.map(function (i) { return i.label; }),
               axisLabel: { interval: 0, rotate: items.length > 4 ? 30 : 0 } },
      yAxis: { type: 'value', name: opts.unit || '', minInterval: opts.decimal ? 0 : 1 },
      series: [{ type: opts.line ? 'line' : 'bar', name: opts.name || '', data: items.map(function (i) {
        return { value: i.value, key: i.key };
      }) }]
    };
  }

  function shares() {
    var w = data.waivers, a = data.appointments;
    return {
      animation: false,
      tooltip: { trigger: 'item' },
      legend: { bottom: 0 },
      title: [{ text: '材料', left: '22%', top: 4, textStyle: { fontSize: 13 } },
              { text: '预约', left: '72%', top: 4, textStyle: { fontSize: 13 } }],
      series: [
        { type: 'pie', name: '材料', radius: ['20%', '36%'], center: ['25%', '48%'],
          label: { formatter: '{b}\n{c}', overflow: 'none' },
          data: [{ name: '共享免提交', value: w.waived }, { name: '申请人上传', value: w.uploaded }] },
        { type: 'pie', name: '预约', radius: ['20%', '36%'], center: ['75%', '48%'],
          label: { formatter: '{b}\n{c}', overflow: 'none' },
          data: [{ name: '已到场', value: a.used }, { name: '未到场', value: a.booked - a.used },
                 { name: '已取消', value: a.cancelled }] }
      ]
    };
  }

  var options = {
    by_district: bar('by_district', data.by_district, { name: '申请量', unit: '件' }),
    by_period: bar('by_period', data.by_period, { name: '申请量', unit: '件', line: data.by_period.length > 12 }),
    by_type: bar('by_type', data.by_type, { name: '申请量', unit: '件' }),
    by_channel: bar('by_channel', data.by_channel, { name: '申请量', unit: '件' }),
    processing_hours: bar('processing_hours', data.processing_hours, { name: '平均时长', unit: '小时', decimal: true }),
    sla_breaches: bar('sla_breaches', data.sla_breaches, { name: '超期', unit: '个' }),
    certificates: bar('certificates', data.certificates, { name: '发证', unit: '本' }),
    shares: shares()
  };

  document.querySelectorAll('.chart[data-figure]').forEach(function (el) {
    var figure = el.dataset.figure;
    var chart = echarts.init(el, null, { renderer: 'canvas' });
    chart.setOption(options[figure]);
    if (drillParam[figure]) {
      chart.on('click', function (params) {
        if (params.data && params.data.key !== undefined) window.location.href = drillUrl(figure, params.data.key);
      });
    }
    charts[figure] = chart;
  });
  window.addEventListener('resize', function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
  window.statsCharts = charts;  // for tests and the console: charts[figure].getOption()
})();
